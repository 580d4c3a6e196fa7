// @ts-check
/**
 * The M06 PEERS section: its peek badge ("N ready · M handshake-pending"), the list (peer-list.js)
 * with its search and count filters, what each card's buttons do (sync, pause, accept deletions,
 * and the dialogs of peer-dialogs.js), Sync all, Add a peer (the new card is brought into view),
 * and the pods that tried to pull from us.
 */
/** @import { Api } from './api.js' */
/** @import { EventFrames, PeersAnswer, SyncNowAnswer } from '../answers.ts' */
/** @import { PeerAction } from './peer-card.js' */
import { $, el, messageOf, say, setBusy } from './dom.js'
import { applyPeerChanges, plural, timeAgo } from './format.js'
import { peerLabel } from './peer-card.js'
import { createPeerDialogs, parseScope, parseUrls } from './peer-dialogs.js'
import { createPeerList } from './peer-list.js'

/** @typedef {SyncNowAnswer['results'][number]} SyncResult */
/** @typedef {PeersAnswer | EventFrames['peers']} Overview GET /peer/peers, or the stream's `peers` event (or a `peers-changed` applied) */

/** @param {SyncResult} r */
function resultText(r) {
  if (r.ok) return `Synced: fetched ${r.fetched}, stored ${r.stored}, deleted ${r.deleted}${r.ms === undefined ? '' : ` (${r.ms} ms)`}.`
  return `Sync failed: ${[r.error, r.detail].filter(Boolean).join(': ') || 'unknown error'}`
}

/**
 * @param {{
 *   api: Api,
 *   selfId: () => string | null,
 *   refresh: () => Promise<void>,
 *   openPeerView: (peer: import('../answers.ts').PeerAnswer, kind: 'preview' | 'log', opener: HTMLElement) => void,
 *   showMemories: (peerId: string) => Promise<void>,
 *   onBanner: (text: string) => void,
 * }} deps
 */
export function createPeers({ api, selfId, refresh, openPeerView, showMemories, onBanner }) {
  const list = createPeerList({
    list: $('peer-list', HTMLUListElement),
    scroller: $('peer-scroll'),
    search: $('peer-q', HTMLInputElement),
    filters: $('peer-filters'),
    count: $('peer-count'),
    empty: $('peers-empty'),
    selfId,
    onAction,
  })
  const dialogs = createPeerDialogs({ api, list, refresh, afterRemove: (text) => say($('sync-all-status'), text) })

  /** @param {PeerAction} action @param {string} id @param {HTMLButtonElement} btn */
  async function onAction(action, id, btn) {
    const peer = list.peer(id)
    if (!peer) return
    try {
      if (action === 'sync') return await syncOne(id, btn)
      if (action === 'pause') {
        await api.patchPeer(id, { sync: !peer.sync })
        list.setResult(id, peer.sync ? 'Paused: no more pulls from this peer (it can still pull from us).' : 'Resumed.')
        return await refreshPeers()
      }
      if (action === 'url' || action === 'scope') return dialogs.openEdit(peer, action, btn)
      if (action === 'remove') return dialogs.openRemove(peer, btn)
      if (action === 'headers') return await dialogs.openHeaders(peer, btn)
      if (action === 'preview' || action === 'log') return openPeerView(peer, action, btn)
      if (action === 'memories') return await showMemories(id)
      if (action === 'accept-deletes') {
        const { deleted } = await api.acceptDeletes(id)
        list.setResult(id, `Accepted: ${deleted} copies deleted.`)
        return await refreshPeers()
      }
    } catch (err) {
      list.setResult(id, messageOf(err), true)
    }
  }

  /** @param {string} id @param {HTMLButtonElement} btn */
  async function syncOne(id, btn) {
    setBusy(btn, true)
    list.setResult(id, 'Syncing…')
    try {
      const { results } = await api.syncNow(id)
      const r = results.find((x) => x.peer === id) ?? results[0]
      list.setResult(id, r ? resultText(r) : 'Nothing to sync.', Boolean(r && !r.ok))
    } catch (err) {
      list.setResult(id, `Sync failed: ${messageOf(err)}`, true)
    } finally {
      setBusy(btn, false)
      await refresh()
    }
  }

  async function syncAll() {
    const btn = $('sync-all', HTMLButtonElement)
    const status = $('sync-all-status')
    setBusy(btn, true)
    say(status, 'Syncing all peers…')
    try {
      const { results } = await api.syncNow()
      const failed = results.filter((r) => !r.ok)
      for (const r of results) list.setResult(r.peer, resultText(r), !r.ok)
      const fetched = results.reduce((n, r) => n + (r.fetched ?? 0), 0)
      say(
        status,
        results.length === 0
          ? 'No peer to pull from (paused or without a URL).'
          : `${results.length - failed.length} of ${results.length} synced, ${fetched} fetched` +
              (failed.length ? `; ${failed.length} failed (see below).` : '.'),
        failed.length > 0,
      )
    } catch (err) {
      say(status, `Sync failed: ${messageOf(err)}`, true)
    } finally {
      setBusy(btn, false)
      await refresh()
    }
  }

  /** @param {SubmitEvent} event */
  async function addPeer(event) {
    event.preventDefault()
    const status = $('add-status')
    const handshake = $('add-handshake', HTMLTextAreaElement).value.trim()
    const directUrl = $('add-url', HTMLInputElement).value.trim()
    const scope = parseScope($('add-scope', HTMLInputElement).value)
    const name = $('add-name', HTMLInputElement).value.trim()
    if (!handshake) {
      say(status, 'Paste their handshake URL first (it starts with mzm-handshake://).', true)
      $('add-handshake').focus()
      return
    }
    const submit = $('add-submit', HTMLButtonElement)
    submit.disabled = true
    say(status, 'Adding…')
    try {
      const { peer } = await api.addPeer({
        handshake_url: handshake,
        ...(directUrl ? { direct_url: parseUrls(directUrl) } : {}),
        ...(scope ? { scope } : {}),
        ...(name ? { name } : {}),
      })
      $('add-form', HTMLFormElement).reset()
      say(
        status,
        peer.url.length > 0
          ? `Added ${peerLabel(peer)}. It can pull from this pod now; press Sync now to pull from it at once.`
          : `Added ${peerLabel(peer)} as handshake-pending: use Set URL once you know where to reach it.`,
      )
      await refresh()
      // Wherever the pod's order puts it, the operator sees the card they just made.
      list.reveal(peer.id)
    } catch (err) {
      say(status, messageOf(err), true)
    } finally {
      submit.disabled = false
    }
  }

  /** The unknown callers shown (a `peers-changed` frame brings them only when they change). @type {NonNullable<Overview['unknown_callers']>} */
  let shownCallers = []

  /**
   * "Pods that tried to pull from you": display only (the id is what an unauthenticated caller
   * claimed), so text nodes only and no button: pairing takes their pasted handshake URL.
   * @param {NonNullable<Overview['unknown_callers']>} callers
   */
  function renderUnknownCallers(callers) {
    shownCallers = callers
    const now = Date.now()
    $('unknown-callers').hidden = callers.length === 0
    $('unknown-list').replaceChildren(
      ...callers.map((c) =>
        el('li', '', `${c.id} — ${plural(c.count, 'request', 'requests')}, first ${timeAgo(c.first_seen, now)}, last ${timeAgo(c.last_seen, now)}`),
      ),
    )
  }

  /** A new list of peers, from GET /peer/peers or the event stream. @param {Overview} overview */
  function show(overview) {
    list.setPeers(overview.peers)
    $('summary').textContent = overview.summary
    renderUnknownCallers(overview.unknown_callers ?? [])
    $('sync-all', HTMLButtonElement).disabled = overview.peers.length === 0
    const error = 'error' in overview ? overview.error : null
    onBanner(error ? `peers.toml could not be read; the pod keeps using the last good copy. ${error}` : '')
  }

  // A slow periodic read must not paint over a newer answer (e.g. right after Pause): only the
  // latest one renders.
  let seq = 0
  async function refreshPeers() {
    const mine = ++seq
    const overview = await api.peers()
    if (mine === seq) show(overview)
  }

  $('sync-all').addEventListener('click', syncAll)
  $('add-form').addEventListener('submit', addPeer)

  return {
    refreshPeers,
    /** From the event stream: newer than any read still in flight. @param {EventFrames['peers']} overview */
    fromStream(overview) {
      ++seq
      show(overview)
    },
    /**
     * Only the peers that changed, applied to the list shown (the stream sent the whole list first).
     * Unknown callers come only when they changed.
     * @param {EventFrames['peers-changed']} change
     */
    changesFromStream(change) {
      ++seq
      show({ ...change, peers: applyPeerChanges(list.peers(), change), unknown_callers: change.unknown_callers ?? shownCallers })
    },
    /** While the live stream is up it keeps the list current (and re-checks it every 30 s): only the "… ago" times move. */
    repaint() {
      list.setPeers(list.peers())
      renderUnknownCallers(shownCallers)
    },
    peers: () => list.peers(),
    shorts: () => list.shorts(),
  }
}
