// @ts-check
/**
 * The "This pod" card: name, short id, the handshake URL with its Copy button and QR code, a
 * warning when that URL carries no address (with the suggested one, advertised in one click),
 * and the rendezvous heartbeat (from GET /status).
 */
/** @import { Api } from './api.js' */
/** @import { IdentityAnswer, StatusAnswer } from '../answers.ts' */
import { $, messageOf, say } from './dom.js'
import { shortId, timeAgo } from './format.js'
import { renderSVG } from './uqr.mjs'

/** Free space under which the home's line shows as a problem (doctor warns from the same point). */
const LOW_DISK_BYTES = 64 * 1024 * 1024

/** @param {{ api: Api }} deps */
export function createIdentity({ api }) {
  /** @type {IdentityAnswer | null} */
  let self = null

  async function load() {
    const id = await api.identity()
    self = id
    document.title = `${id.name || shortId(id.pod_id)} · Mazemaker pod`
    $('pod-title').textContent = id.name || ''
    $('id-name').textContent = id.name || '(no name)'
    const short = $('id-short')
    short.textContent = shortId(id.pod_id)
    short.title = id.pod_id
    $('handshake-url', HTMLInputElement).value = id.handshake_url
    const qr = $('qr', HTMLImageElement)
    // Black on white with a 4-module quiet zone in both colour schemes: what scanners expect.
    const svg = renderSVG(id.handshake_url, { ecc: 'M', border: 4, pixelSize: 8, whiteColor: '#ffffff', blackColor: '#000000' })
    qr.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`
    qr.hidden = false
  }

  /**
   * A handshake that carries no address leaves every peer handshake-pending until its operator
   * types a URL: say so, with `advertise suggest`'s first pick and a button that advertises it.
   */
  async function refreshAdvertise() {
    const { warning, suggestion } = await api.advertise()
    $('advertise-warning').hidden = !warning
    if (!warning) return
    // The pod's own words (they name the suggestion, as `mazemaker identity` does); the button advertises it.
    $('advertise-warning-text').textContent = `This pod's ${warning}.`
    const button = $('advertise-suggested', HTMLButtonElement)
    button.hidden = !suggestion
    if (suggestion) {
      button.textContent = `Advertise ${suggestion.url}`
      button.dataset.url = suggestion.url
    }
  }

  async function advertiseSuggested() {
    const button = $('advertise-suggested', HTMLButtonElement)
    const url = button.dataset.url
    if (!url) return
    button.disabled = true
    try {
      const out = await api.setAdvertise([url])
      $('handshake-url', HTMLInputElement).value = out.handshake_url
      self = null // the handshake URL (and its QR code) changed
      await load()
      await refreshAdvertise()
      say($('copy-status'), `Advertising ${url}: the handshake URL now carries it. Send the new one to peers that have none.`)
    } catch (err) {
      say($('advertise-status'), messageOf(err), true)
    } finally {
      button.disabled = false
    }
  }

  /** The rendezvous heartbeat and the home's free space, from GET /status. */
  async function refreshStatus() {
    const { rendezvous: rv, disk } = await api.status()
    showDisk(disk)
    const line = $('id-rendezvous')
    line.classList.toggle('is-error', Boolean(rv && !rv.registered))
    if (!rv) line.textContent = 'not used: peers need direct URLs'
    else if (rv.registered) line.textContent = `registered at ${rv.rendezvous_url} as ${rv.advertised_url} (heartbeat ${timeAgo(rv.last_ok_at, Date.now())})`
    else line.textContent = `not registered at ${rv.rendezvous_url}: ${rv.last_error || 'no heartbeat yet'}`
  }

  /** @param {StatusAnswer['disk']} disk */
  function showDisk(disk) {
    const line = $('id-disk')
    const gib = (/** @type {number} */ n) => `${(n / 2 ** 30).toFixed(1)} GiB`
    line.textContent = disk ? `${gib(disk.free_bytes)} free of ${gib(disk.total_bytes)} on ${disk.path}` : 'unknown'
    // Where doctor warns too: below this, writes are about to be refused (disk_full).
    line.classList.toggle('is-error', Boolean(disk && disk.free_bytes < LOW_DISK_BYTES))
  }

  async function copyHandshake() {
    const input = $('handshake-url', HTMLInputElement)
    const status = $('copy-status')
    try {
      await navigator.clipboard.writeText(input.value)
      status.textContent = 'Copied.'
    } catch {
      input.focus()
      input.select()
      status.textContent = 'Selected: press Ctrl+C (⌘C) to copy.'
    }
  }

  $('copy-handshake').addEventListener('click', copyHandshake)
  $('advertise-suggested').addEventListener('click', advertiseSuggested)

  return {
    /** Loads the card once (again after a new token). */
    async refresh() {
      if (!self) await load()
      await Promise.all([refreshStatus(), refreshAdvertise()])
    },
    forget() {
      self = null
    },
    self: () => self,
  }
}
