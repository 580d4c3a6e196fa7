// @ts-check
/**
 * The peer dialogs: Set URL and Edit scope (one dialog), Remove (asks first, the safe choice has
 * focus), and Secret headers (names with masked values; set one, unset one: the value goes in a
 * request body, never a URL, and never comes back in full). Closing a dialog puts focus back
 * on the button that opened it.
 */
/** @import { Api } from './api.js' */
/** @import { HeadersAnswer, PeerAnswer } from '../answers.ts' */
/** @import { PeerList } from './peer-list.js' */
import { $, el, messageOf, say } from './dom.js'
import { plural, scopeText, shortId, urlList } from './format.js'
import { peerLabel } from './peer-card.js'

/** "public:*, decision:*" → "public:*" or ["public:*", "decision:*"]; null when empty. @param {string} raw */
export function parseScope(raw) {
  const globs = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  if (globs.length === 0) return null
  return globs.length === 1 ? /** @type {string} */ (globs[0]) : globs
}

/** "a b, c" → "a" or ["a", "b", "c"] (several URLs are tried in order); "" when none. @param {string} raw */
export function parseUrls(raw) {
  const urls = raw.split(/[\s,]+/).filter(Boolean)
  return urls.length > 1 ? urls : (urls[0] ?? '')
}

/**
 * @param {{ api: Api, list: PeerList, refresh: () => Promise<void>, afterRemove: (text: string) => void }} deps
 */
export function createPeerDialogs({ api, list, refresh, afterRemove }) {
  /** @type {{ peer: PeerAnswer, field: 'url' | 'scope', opener: HTMLElement } | null} */
  let editing = null
  /** @type {{ peer: PeerAnswer, opener: HTMLElement } | null} */
  let removing = null
  /** @type {{ peer: PeerAnswer, opener: HTMLElement } | null} */
  let headersOf = null

  /** @param {PeerAnswer} peer @param {'url' | 'scope'} field @param {HTMLElement} opener */
  function openEdit(peer, field, opener) {
    editing = { peer, field, opener }
    const who = peerLabel(peer)
    $('edit-title').textContent = field === 'url' ? `Set URL of ${who}` : `Edit scope of ${who}`
    $('edit-label').textContent = field === 'url' ? 'URL' : 'Scope'
    $('edit-hint').textContent =
      field === 'url'
        ? 'https://… or http://… where this pod reaches theirs, or mzm-rendezvous://<their id>. Several, separated by spaces, are tried in order. Empty means handshake-pending.'
        : 'Label globs to pull, comma-separated, e.g. public:*, decision:*. Their public-prefix gate applies whatever you ask for.'
    const input = $('edit-value', HTMLInputElement)
    input.value = field === 'url' ? urlList(peer).join(' ') : scopeText(peer.scope)
    input.placeholder = field === 'url' ? 'https://peer.tail-foo.ts.net' : '*'
    $('edit-status').textContent = ''
    $('edit-dialog', HTMLDialogElement).showModal()
    input.select()
  }

  /** @param {SubmitEvent} event */
  async function saveEdit(event) {
    event.preventDefault()
    if (!editing) return
    const { peer, field } = editing
    const raw = $('edit-value', HTMLInputElement).value.trim()
    const scope = field === 'scope' ? parseScope(raw) : null
    if (field === 'scope' && !scope) {
      $('edit-status').textContent = 'Give at least one glob, e.g. public:*'
      return
    }
    const save = $('edit-save', HTMLButtonElement)
    save.disabled = true
    try {
      await api.patchPeer(peer.id, field === 'url' ? { url: parseUrls(raw) } : { scope: /** @type {string | string[]} */ (scope) })
      close('edit-dialog')
      list.setResult(peer.id, field === 'url' ? `URL set${raw ? '' : ' (cleared)'}.` : 'Scope saved; the next pull fetches what it now matches.')
      await refresh()
    } catch (err) {
      $('edit-status').textContent = messageOf(err)
    } finally {
      save.disabled = false
    }
  }

  /** @param {PeerAnswer} peer @param {HTMLElement} opener */
  function openRemove(peer, opener) {
    removing = { peer, opener }
    const who = peerLabel(peer)
    $('remove-title').textContent = `Remove ${who}?`
    $('remove-text').textContent =
      `${who} (${shortId(peer.id)}) will be refused from its very next request, and this pod stops pulling from it. ` +
      'Pairing again needs their handshake URL.'
    $('remove-purge', HTMLInputElement).checked = false
    $('remove-purge-label').textContent = `Also delete the ${plural(peer.memories ?? 0, 'copy', 'copies')} held here`
    $('remove-status').textContent = ''
    $('remove-dialog', HTMLDialogElement).showModal()
    $('remove-cancel').focus() // the safe choice has focus
  }

  /** @param {SubmitEvent} event */
  async function confirmRemove(event) {
    event.preventDefault()
    if (!removing) return
    const { peer } = removing
    const btn = $('remove-confirm', HTMLButtonElement)
    btn.disabled = true
    try {
      const out = await api.removePeer(peer.id, $('remove-purge', HTMLInputElement).checked)
      removing.opener = $('peers-heading') // the opener is about to disappear
      close('remove-dialog')
      afterRemove(`Removed ${peerLabel(peer)}${out.purged ? `, ${plural(out.purged, 'copy', 'copies')} deleted` : ''}.`)
      await refresh()
    } catch (err) {
      $('remove-status').textContent = messageOf(err)
    } finally {
      btn.disabled = false
    }
  }

  /** @param {PeerAnswer} peer @param {HTMLElement} opener */
  async function openHeaders(peer, opener) {
    headersOf = { peer, opener }
    $('headers-title').textContent = `Secret headers for ${peerLabel(peer)}`
    say($('headers-status'), '')
    $('headers-form', HTMLFormElement).reset()
    $('headers-list').replaceChildren()
    $('headers-dialog', HTMLDialogElement).showModal()
    $('header-name').focus()
    await showHeaders(() => api.headers(peer.id))
  }

  /** @param {() => Promise<HeadersAnswer>} load */
  async function showHeaders(load) {
    if (!headersOf) return
    const { peer } = headersOf
    try {
      const { headers, for: origins } = await load()
      const where = $('headers-for')
      where.hidden = headers.length === 0
      where.textContent = originsText(origins, peer)
      $('headers-list').replaceChildren(
        ...headers.map((h) => {
          const li = el('li', 'header-item')
          li.append(el('code', 'header-name', h.name), ' ', el('code', 'hint', h.value), ' ')
          const unset = el('button', 'danger-quiet', 'Unset')
          unset.type = 'button'
          unset.append(el('span', 'sr-only', ` ${h.name}`))
          unset.addEventListener('click', () => unsetHeader(peer, h.name))
          li.append(unset)
          return li
        }),
      )
      $('headers-empty').hidden = headers.length > 0
    } catch (err) {
      say($('headers-status'), messageOf(err), true)
    }
  }

  /** @param {SubmitEvent} event */
  async function setHeader(event) {
    event.preventDefault()
    if (!headersOf) return
    const { peer } = headersOf
    const name = $('header-name', HTMLInputElement).value.trim()
    const value = $('header-value', HTMLInputElement).value
    if (!name || !value) return say($('headers-status'), 'Give a header name and its value.', true)
    await showHeaders(async () => {
      const out = await api.setHeader(peer.id, name, value)
      $('headers-form', HTMLFormElement).reset()
      say($('headers-status'), `Set ${name}: sent with requests to ${peerLabel(peer)} from now on.`)
      return out
    })
    await refresh()
  }

  /** @param {PeerAnswer} peer @param {string} name */
  async function unsetHeader(peer, name) {
    await showHeaders(async () => {
      const out = await api.unsetHeader(peer.id, name)
      say($('headers-status'), `Unset ${name}.`)
      $('header-name').focus() // the button that was pressed is gone
      return out
    })
    await refresh()
  }

  /**
   * Where the headers go: only to the origins the file names (never over plain http except to
   * loopback); a file that names none yet is bound at the next pull to the peer's URLs.
   * @param {string[] | null} origins @param {PeerAnswer} peer
   */
  function originsText(origins, peer) {
    if (origins === null) return "Not bound yet: the next pull binds them to the origins of this peer's URLs."
    if (origins.length === 0) return `Sent nowhere: no origin named. Name one with \`mazemaker peer headers for ${shortId(peer.id)} https://…\`.`
    return `Sent only to ${origins.join(', ')} (never over plain http, except to this machine).`
  }

  /** @param {string} id */
  function close(id) {
    const dialog = $(id, HTMLDialogElement)
    if (dialog.open) dialog.close()
  }

  /** @param {{ opener: HTMLElement } | null} ctx */
  const refocus = (ctx) => {
    // Put focus back where the operator was (the browser does not always, e.g. after a re-render).
    if (ctx?.opener?.isConnected) ctx.opener.focus()
  }

  $('edit-form').addEventListener('submit', saveEdit)
  $('edit-cancel').addEventListener('click', () => close('edit-dialog'))
  $('edit-dialog').addEventListener('close', () => {
    refocus(editing)
    editing = null
  })
  $('remove-form').addEventListener('submit', confirmRemove)
  $('remove-cancel').addEventListener('click', () => close('remove-dialog'))
  $('remove-dialog').addEventListener('close', () => {
    refocus(removing)
    removing = null
  })
  $('headers-form').addEventListener('submit', setHeader)
  $('headers-close').addEventListener('click', () => close('headers-dialog'))
  $('headers-dialog').addEventListener('close', () => {
    refocus(headersOf)
    headersOf = null
  })

  return { openEdit, openRemove, openHeaders }
}
