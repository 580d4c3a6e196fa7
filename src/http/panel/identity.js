// @ts-check
/**
 * The "This pod" card: name, short id, the handshake URL with its Copy button and QR code, and
 * the rendezvous heartbeat (from GET /status).
 */
/** @import { Api } from './api.js' */
/** @import { IdentityAnswer } from '../answers.ts' */
import { $ } from './dom.js'
import { shortId, timeAgo } from './format.js'
import { renderSVG } from './uqr.mjs'

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

  /** The rendezvous heartbeat, from GET /status: registered (and since when), failing, or not used. */
  async function refreshStatus() {
    const { rendezvous: rv } = await api.status()
    const line = $('id-rendezvous')
    line.classList.toggle('is-error', Boolean(rv && !rv.registered))
    if (!rv) line.textContent = 'not used: peers need direct URLs'
    else if (rv.registered) line.textContent = `registered at ${rv.rendezvous_url} as ${rv.advertised_url} (heartbeat ${timeAgo(rv.last_ok_at, Date.now())})`
    else line.textContent = `not registered at ${rv.rendezvous_url}: ${rv.last_error || 'no heartbeat yet'}`
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

  return {
    /** Loads the card once (again after a new token). */
    async refresh() {
      if (!self) await load()
      await refreshStatus()
    },
    forget() {
      self = null
    },
    self: () => self,
  }
}
