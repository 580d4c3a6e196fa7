// @ts-check
/**
 * Mazemaker operator panel: plain ES modules, no framework, no build step; type-checked by tsc
 * (`// @ts-check`, answers typed by src/http/answers.ts) and linted by Biome like the rest of src.
 *
 * It talks only to the pod that served it (relative URLs, so a proxy may mount the pod under a
 * prefix), with `Authorization: Bearer <admin token>`. The token arrives once in the URL fragment
 * (`mazemaker open` prints `…/#token=…`; a fragment never reaches the server or a Referer), is kept
 * in this tab's session storage, and is removed from the address bar at once.
 *
 * Every string from the server is inserted with textContent, never as HTML, and arrives with its
 * control, bidi and invisible characters made visible (api.js). The page re-reads the pod every
 * REFRESH_MS (once a minute while the live stream is up, and then not the peer list, which the
 * stream keeps current) and updates what it shows in place, so keyboard focus survives refreshes.
 */
import { createApi } from './api.js'
import { $ } from './dom.js'
import { createIdentity } from './identity.js'
import { createMemories } from './memories.js'
import { createPeers } from './peers.js'
import { createSharing } from './sharing.js'
import { createStream } from './stream.js'

const TOKEN_KEY = 'mazemaker.admin-token'
const REFRESH_MS = 5000
/** While the live stream is up, the re-read is only a safety net (and moves "2 min ago"); the peer list is not read again. */
const LIVE_REFRESH_MS = 60_000
const SIGNED_OUT = 'The pod refused the token this tab had (was admin.token replaced?).'

function takeToken() {
  const params = new URLSearchParams(location.hash.slice(1))
  const fromLink = params.get('token')
  if (location.hash) history.replaceState(null, '', location.pathname + location.search)
  if (fromLink) sessionStorage.setItem(TOKEN_KEY, fromLink)
  return sessionStorage.getItem(TOKEN_KEY)
}

function startPanel() {
  let token = takeToken()
  let refreshTimer = 0
  let lastRefresh = 0
  let live = false
  let bannerText = ''

  const api = createApi({ token: () => token, onUnauthorized: () => signedOut(SIGNED_OUT) })
  const identity = createIdentity({ api })
  const peers = createPeers({
    api,
    selfId: () => identity.self()?.pod_id ?? null,
    // After an operator's action the answer must show it at once: the peer list is read again.
    refresh: () => refreshAll(true),
    openPeerView: (peer, kind, opener) => void sharing.openPeerView(peer, kind, opener),
    showMemories: (peerId) => memories.showOrigin(peerId),
    onBanner: setBanner,
  })
  const memories = createMemories({ api, sharing: () => sharing, peers: () => peers.peers(), shorts: () => peers.shorts() })
  // Memory editing, held memories, who receives what, a peer's preview and log (sharing.js).
  const sharing = createSharing({
    api,
    peers: () => peers.peers(),
    reload: async () => {
      await refreshAll(true)
      // refreshAll follows only the plain first page; a search or a longer list is re-read too.
      await memories.refresh(true)
    },
  })
  const stream = createStream({
    token: () => token,
    onUnauthorized: () => signedOut(SIGNED_OUT),
    onLive: (on) => {
      live = on
      document.body.dataset.live = on ? 'on' : 'off'
    },
    onEvent: (e) => {
      if (e.event === 'peers') peers.fromStream(e.data)
      else if (e.event === 'peers-changed') peers.changesFromStream(e.data)
      else if (e.event === 'memory' || e.event === 'skipped') memories.changed()
    },
  })

  /** @param {string} text */
  function setBanner(text) {
    if (text === bannerText) return // re-setting the same alert would re-announce it
    bannerText = text
    const banner = $('banner')
    banner.textContent = text
    banner.hidden = text === ''
  }

  /** @param {string} reason */
  function signedOut(reason) {
    token = null
    sessionStorage.removeItem(TOKEN_KEY)
    clearTimeout(refreshTimer)
    stream.stop()
    if (reason) $('no-token-reason').textContent = reason
    $('dashboard').hidden = true
    $('no-token').hidden = false
    $('summary').textContent = ''
  }

  /** @param {boolean} [peersToo] read the peer list even while the stream keeps it current (after an action) */
  async function refreshAll(peersToo = false) {
    if (!token) return
    lastRefresh = Date.now()
    try {
      // Peers need not wait for this pod's card: on a hub their list is the slowest answer. While
      // the stream is up it sends every change (2,000 peers are ~900 KB to read again), so the
      // list is only repainted for its "… ago" times.
      await Promise.all([identity.refresh(), live && !peersToo ? peers.repaint() : peers.refreshPeers()])
      await memories.refresh()
      await sharing.refreshHeld()
    } catch (err) {
      const status = /** @type {{ status?: number }} */ (err).status
      if (status !== 401) setBanner(`Cannot reach the pod: ${err instanceof Error ? err.message : String(err)} Retrying every ${REFRESH_MS / 1000} s.`)
    }
  }

  function scheduleRefresh() {
    clearTimeout(refreshTimer)
    refreshTimer = window.setTimeout(async () => {
      const due = !live || Date.now() - lastRefresh >= LIVE_REFRESH_MS
      if (document.visibilityState === 'visible' && due) await refreshAll()
      if (token) scheduleRefresh()
    }, REFRESH_MS)
  }

  function signedIn() {
    $('no-token').hidden = true
    $('dashboard').hidden = false
    void refreshAll().then(scheduleRefresh)
    void stream.follow()
  }

  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && token) void refreshAll()
  })
  // Pasting a new `mazemaker open` link into this tab only changes the fragment: no reload.
  window.addEventListener('hashchange', () => {
    if (!new URLSearchParams(location.hash.slice(1)).has('token')) return
    token = takeToken()
    identity.forget()
    stream.stop() // opened with the old token
    if (token) signedIn()
  })

  if (token) signedIn()
  else signedOut('')
}

startPanel()
