/**
 * Mazemaker operator panel: a plain ES module, no framework, no build step.
 *
 * It talks only to the pod that served it (relative URLs, so a proxy may mount the pod under a
 * prefix), with `Authorization: Bearer <admin token>`. The token arrives once in the URL fragment
 * (`mazemaker open` prints `…/#token=…`; a fragment never reaches the server or a Referer), is kept
 * in this tab's session storage, and is removed from the address bar at once.
 *
 * Every string from the server is inserted with textContent, never as HTML, and arrives with its
 * control, bidi and invisible characters made visible (`shown`). The page re-reads the
 * peers every REFRESH_MS and updates each peer's card in place, so keyboard focus survives refreshes.
 */
import { renderSVG } from './uqr.mjs'
import { shown } from './shown.mjs'
import { createSharing } from './sharing.mjs'

const TOKEN_KEY = 'mazemaker.admin-token'
const REFRESH_MS = 5000
/** While the live stream is up, the full re-read is only a safety net (and moves "2 min ago"). */
const LIVE_REFRESH_MS = 60_000
/** A dropped stream is opened again after this long. */
const STREAM_RETRY_MS = 2000
const MEMORY_PAGE = 20
const CONTENT_PREVIEW_CHARS = 400
const SHORT_ID_CHARS = 8

/** Badge per status; the icon is decoration (aria-hidden), the word is what a screen reader says. */
const STATUS = {
  ready: { icon: '•', word: 'ready' },
  'handshake-pending': { icon: '◖', word: 'handshake-pending' },
  'awaiting-peer': { icon: '◖', word: 'awaiting-peer' },
  paused: { icon: '‖', word: 'paused' },
  error: { icon: '✕', word: 'error' },
  held: { icon: '!', word: 'held' },
  revoked: { icon: '', word: 'revoked' },
}

/** @returns {any} the element; `any` because each id names a known element type */
const $ = (id) => {
  const el = document.getElementById(id)
  if (!el) throw new Error(`panel: #${id} missing`)
  return el
}

/** An API answer that was not 2xx; `message` is the server's `{message}` when it sent one. */
class ApiError extends Error {
  constructor(status, code, message) {
    super(message)
    this.status = status
    this.code = code
  }
}

/** "just now", "2 min ago", "3 h ago", "4 d ago", "never". */
function timeAgo(iso, nowMs = Date.now()) {
  if (!iso) return 'never'
  const then = Date.parse(iso)
  if (Number.isNaN(then)) return 'never'
  const s = Math.max(0, Math.round((nowMs - then) / 1000))
  if (s < 60) return 'just now'
  if (s < 3600) return `${Math.floor(s / 60)} min ago`
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`
  return `${Math.floor(s / 86400)} d ago`
}

/** Shortest prefix (at least 8 characters) that tells every id in `ids` apart. */
function shortIds(ids) {
  const out = new Map()
  for (const id of ids) {
    let n = SHORT_ID_CHARS
    while (n < id.length && ids.some((other) => other !== id && other.startsWith(id.slice(0, n)))) n++
    out.set(id, id.slice(0, n))
  }
  return out
}

/** "public:*, decision:*" → "public:*" or ["public:*", "decision:*"]; null when empty. */
function parseScope(raw) {
  const globs = raw.split(',').map((s) => s.trim()).filter(Boolean)
  if (globs.length === 0) return null
  return globs.length === 1 ? globs[0] : globs
}

const copies = (n) => `${n} ${n === 1 ? 'copy' : 'copies'}`

const scopeText = (scope) => (Array.isArray(scope) ? scope.join(', ') : String(scope ?? ''))

function takeToken() {
  const params = new URLSearchParams(location.hash.slice(1))
  const fromLink = params.get('token')
  if (location.hash) history.replaceState(null, '', location.pathname + location.search)
  if (fromLink) sessionStorage.setItem(TOKEN_KEY, fromLink)
  return sessionStorage.getItem(TOKEN_KEY)
}

function startPanel() {
  let token = takeToken()
  const state = {
    self: null,
    peers: [],
    cards: new Map(),
    memoryCursor: null,
    memoryQuery: '',
    memoryPages: 1,
    memoryKey: '',
    refreshTimer: 0,
    bannerText: '',
    /** The GET /events stream: up, and how to end it. */
    live: false,
    stream: null,
    lastRefresh: 0,
    memoryTimer: 0,
  }

  async function api(method, path, body) {
    let res
    try {
      res = await fetch(path, {
        method,
        headers: {
          Authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
        credentials: 'omit',
      })
    } catch {
      throw new ApiError(0, 'unreachable', 'the pod did not answer; is it still running?')
    }
    if (res.status === 204) return null
    let data = null
    try {
      // One spot for every string the server sends (names, labels, content, errors): made visible here.
      data = JSON.parse(await res.text(), (_key, value) => (typeof value === 'string' ? shown(value) : value))
    } catch {
      // a non-JSON answer (a proxy's error page): fall back to the status line below
    }
    if (!res.ok) {
      const err = new ApiError(res.status, data?.error ?? `http_${res.status}`, data?.message ?? `${res.status} ${res.statusText}`)
      if (res.status === 401) signedOut('The pod refused the token this tab had (was admin.token replaced?).')
      throw err
    }
    return data
  }

  // ---- banner, sign-in notice ----------------------------------------------------------------

  function setBanner(text) {
    if (text === state.bannerText) return // re-setting the same alert would re-announce it
    state.bannerText = text
    const banner = $('banner')
    banner.textContent = text
    banner.hidden = text === ''
  }

  function signedOut(reason) {
    token = null
    sessionStorage.removeItem(TOKEN_KEY)
    clearTimeout(state.refreshTimer)
    state.stream?.abort()
    state.stream = null
    if (reason) $('no-token-reason').textContent = reason
    $('dashboard').hidden = true
    $('no-token').hidden = false
    $('summary').textContent = ''
  }

  // ---- identity -------------------------------------------------------------------------------

  async function loadIdentity() {
    const id = await api('GET', 'peer/identity')
    state.self = id
    document.title = `${id.name || id.pod_id.slice(0, SHORT_ID_CHARS)} · Mazemaker pod`
    $('pod-title').textContent = id.name || ''
    $('id-name').textContent = id.name || '(no name)'
    const short = $('id-short')
    short.textContent = id.pod_id.slice(0, SHORT_ID_CHARS)
    short.title = id.pod_id
    $('handshake-url').value = id.handshake_url
    const qr = $('qr')
    // Black on white with a 4-module quiet zone in both colour schemes: what scanners expect.
    const svg = renderSVG(id.handshake_url, { ecc: 'M', border: 4, pixelSize: 8, whiteColor: '#ffffff', blackColor: '#000000' })
    qr.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`
    qr.hidden = false
  }

  /** The rendezvous heartbeat, from GET /status: registered (and since when), failing, or not used. */
  async function refreshRendezvous() {
    const { rendezvous: rv } = await api('GET', 'status')
    const el = $('id-rendezvous')
    el.classList.toggle('is-error', Boolean(rv && !rv.registered))
    if (!rv) el.textContent = 'not used: peers need direct URLs'
    else if (rv.registered) el.textContent = `registered at ${rv.rendezvous_url} as ${rv.advertised_url} (heartbeat ${timeAgo(rv.last_ok_at)})`
    else el.textContent = `not registered at ${rv.rendezvous_url}: ${rv.last_error || 'no heartbeat yet'}`
  }

  async function copyHandshake() {
    const input = $('handshake-url')
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

  // ---- peers ----------------------------------------------------------------------------------

  function peerLabel(peer) {
    return peer.name || peer.id.slice(0, SHORT_ID_CHARS)
  }

  function createCard(peer) {
    const tpl = $('peer-template')
    const li = /** @type {HTMLElement} */ (tpl.content.firstElementChild.cloneNode(true))
    li.dataset.peerId = peer.id
    const q = (sel) => li.querySelector(sel)
    const card = {
      li,
      name: q('.peer-name'),
      id: q('.peer-id'),
      badge: q('.badge'),
      icon: q('.badge-icon'),
      word: q('.badge-text'),
      error: q('.peer-error'),
      url: q('.peer-url'),
      scope: q('.peer-scope'),
      last: q('.peer-last'),
      copies: q('.peer-copies'),
      result: q('.peer-result'),
      buttons: {},
    }
    li.querySelector('.peer-name').id = `peer-${peer.id}`
    /** @type {NodeListOf<HTMLButtonElement>} */
    const buttons = li.querySelectorAll('button[data-action]')
    for (const btn of buttons) {
      card.buttons[btn.dataset.action] = btn
      // Each button says whose it is ("Pause alca-7G"), not just "Pause" six times over.
      const who = document.createElement('span')
      who.className = 'sr-only peer-who'
      btn.append(who)
      btn.addEventListener('click', () => onPeerAction(btn.dataset.action, li.dataset.peerId, btn))
    }
    return card
  }

  function updateCard(card, peer, short) {
    const label = peerLabel(peer)
    card.name.textContent = peer.name || '(no name)'
    card.id.textContent = short
    card.id.title = peer.id
    const status = STATUS[peer.status] ?? { icon: '?', word: String(peer.status) }
    card.badge.className = `badge status-${peer.status}`
    card.icon.textContent = status.icon
    card.word.textContent = status.icon ? ` ${status.word}` : status.word
    const problem =
      peer.status === 'revoked'
        ? 'Its key file is gone, so it is refused. Remove it, or pair again with its handshake URL.'
        : peer.status === 'held'
          ? `Mass delete ${peer.last_error ?? 'held'}`
          : peer.status === 'awaiting-peer'
            ? `Waiting for them: ${peer.last_error}`
            : peer.last_error
            ? `Last pull failed: ${peer.last_error}`
            : ''
    card.error.hidden = problem === ''
    card.error.textContent = problem
    // Several URLs are tried in order; the list reads left to right.
    const urls = urlList(peer)
    card.url.textContent = urls.length > 0 ? urls.join(' → ') : 'not set yet'
    card.url.title = urls.length > 1 ? 'tried in this order; the one that last worked goes first' : ''
    card.url.classList.toggle('muted', urls.length === 0)
    card.scope.textContent = scopeText(peer.scope)
    card.last.textContent = timeAgo(peer.last_sync_at)
    card.last.title = peer.last_sync_at ? new Date(peer.last_sync_at).toLocaleString() : ''
    card.copies.textContent = String(peer.memories ?? 0)
    for (const who of card.li.querySelectorAll('.peer-who')) who.textContent = ` ${label}`
    const pause = card.buttons.pause
    pause.querySelector('.label').textContent = peer.sync ? 'Pause' : 'Resume'
    const revoked = peer.status === 'revoked'
    pause.disabled = revoked
    card.buttons.url.disabled = revoked
    card.buttons.scope.disabled = revoked
    card.buttons['accept-deletes'].hidden = peer.status !== 'held'
    if (!card.buttons.sync.classList.contains('busy')) card.buttons.sync.disabled = revoked || urls.length === 0
  }

  /** A peer's URLs as a list, whatever shape the API used ("" / string / array). */
  function urlList(peer) {
    if (Array.isArray(peer.urls)) return peer.urls
    if (Array.isArray(peer.url)) return peer.url
    return peer.url ? [peer.url] : []
  }

  /**
   * "Pods that tried to pull from you": display only (the id is what an unauthenticated caller
   * claimed), so text nodes only and no button: pairing takes their pasted handshake URL.
   */
  function renderUnknownCallers(callers) {
    const box = $('unknown-callers')
    const list = $('unknown-list')
    box.hidden = callers.length === 0
    list.replaceChildren(
      ...callers.map((c) => {
        const li = document.createElement('li')
        li.textContent = `${c.id} — ${c.count} request${c.count === 1 ? '' : 's'}, first ${timeAgo(c.first_seen)}, last ${timeAgo(c.last_seen)}`
        return li
      }),
    )
  }

  function renderPeers(overview) {
    const peers = overview.peers ?? []
    state.peers = peers
    const shorts = shortIds([...peers.map((p) => p.id), ...(state.self ? [state.self.pod_id] : [])])
    const list = $('peer-list')
    const seen = new Set()
    let prev = null
    for (const peer of peers) {
      seen.add(peer.id)
      let card = state.cards.get(peer.id)
      if (!card) {
        card = createCard(peer)
        state.cards.set(peer.id, card)
      }
      updateCard(card, peer, shorts.get(peer.id))
      // Keep server order without re-inserting nodes that are already in place (focus stays put).
      const want = prev ? prev.nextSibling : list.firstChild
      if (want !== card.li) list.insertBefore(card.li, want)
      prev = card.li
    }
    for (const [id, card] of state.cards) {
      if (seen.has(id)) continue
      card.li.remove()
      state.cards.delete(id)
    }
    $('peers-empty').hidden = peers.length > 0
    $('summary').textContent = overview.summary ?? ''
    renderUnknownCallers(overview.unknown_callers ?? [])
    $('sync-all').disabled = peers.length === 0
    setBanner(overview.error ? `peers.toml could not be read; the pod keeps using the last good copy. ${overview.error}` : '')
    updateOriginFilter(peers, shorts)
  }

  // A slow periodic refresh must not paint over a newer answer (e.g. right after Pause): only the
  // latest request of each kind renders.
  const latest = { peers: 0, memories: 0 }

  async function refreshPeers() {
    const seq = ++latest.peers
    const overview = await api('GET', 'peer/peers')
    if (seq === latest.peers) renderPeers(overview)
  }

  function resultText(r) {
    if (r.ok) return `Synced: fetched ${r.fetched}, stored ${r.stored}, deleted ${r.deleted}${r.ms === undefined ? '' : ` (${r.ms} ms)`}.`
    return `Sync failed: ${[r.error, r.detail].filter(Boolean).join(': ') || 'unknown error'}`
  }

  function setBusy(btn, busy) {
    btn.classList.toggle('busy', busy)
    btn.disabled = busy
    btn.setAttribute('aria-busy', busy ? 'true' : 'false')
  }

  async function syncPeer(id, btn) {
    const card = state.cards.get(id)
    setBusy(btn, true)
    card.result.textContent = 'Syncing…'
    card.result.classList.remove('error-text')
    try {
      const { results } = await api('POST', 'peer/sync-now', { peer: id })
      const r = results.find((x) => x.peer === id) ?? results[0]
      card.result.textContent = r ? resultText(r) : 'Nothing to sync.'
      card.result.classList.toggle('error-text', Boolean(r && !r.ok))
    } catch (err) {
      card.result.textContent = `Sync failed: ${err.message}`
      card.result.classList.add('error-text')
    } finally {
      setBusy(btn, false)
      await refreshAll()
    }
  }

  async function syncAll() {
    const btn = $('sync-all')
    const status = $('sync-all-status')
    setBusy(btn, true)
    status.textContent = 'Syncing all peers…'
    status.classList.remove('error-text')
    try {
      const { results } = await api('POST', 'peer/sync-now', {})
      const failed = results.filter((r) => !r.ok)
      for (const r of results) {
        const card = state.cards.get(r.peer)
        if (!card) continue
        card.result.textContent = resultText(r)
        card.result.classList.toggle('error-text', !r.ok)
      }
      const fetched = results.reduce((n, r) => n + (r.fetched ?? 0), 0)
      status.textContent =
        results.length === 0
          ? 'No peer to pull from (paused or without a URL).'
          : `${results.length - failed.length} of ${results.length} synced, ${fetched} fetched` + (failed.length ? `; ${failed.length} failed (see below).` : '.')
      status.classList.toggle('error-text', failed.length > 0)
    } catch (err) {
      status.textContent = `Sync failed: ${err.message}`
      status.classList.add('error-text')
    } finally {
      setBusy(btn, false)
      await refreshAll()
    }
  }

  async function onPeerAction(action, id, btn) {
    const peer = state.peers.find((p) => p.id === id)
    if (!peer) return
    const card = state.cards.get(id)
    try {
      if (action === 'sync') return await syncPeer(id, btn)
      if (action === 'pause') {
        await api('PATCH', `peer/peers/${id}`, { sync: !peer.sync })
        card.result.classList.remove('error-text')
        card.result.textContent = peer.sync ? 'Paused: no more pulls from this peer (it can still pull from us).' : 'Resumed.'
        return await refreshPeers()
      }
      if (action === 'url') return openEdit(peer, 'url', btn)
      if (action === 'scope') return openEdit(peer, 'scope', btn)
      if (action === 'remove') return openRemove(peer, btn)
      if (action === 'preview' || action === 'log') return sharing.openPeerView(peer, action, btn)
      if (action === 'accept-deletes') {
        const { deleted } = await api('POST', `peer/peers/${id}/accept-deletes`)
        card.result.classList.remove('error-text')
        card.result.textContent = `Accepted: ${deleted} copies deleted.`
        return await refreshPeers()
      }
    } catch (err) {
      card.result.textContent = err.message
      card.result.classList.add('error-text')
    }
  }

  // ---- edit dialog (Set URL, Edit scope) -------------------------------------------------------

  let editing = null

  function openEdit(peer, field, opener) {
    editing = { peer, field, opener }
    const who = peerLabel(peer)
    $('edit-title').textContent = field === 'url' ? `Set URL of ${who}` : `Edit scope of ${who}`
    $('edit-label').textContent = field === 'url' ? 'URL' : 'Scope'
    $('edit-hint').textContent =
      field === 'url'
        ? 'https://… or http://… where this pod reaches theirs, or mzm-rendezvous://<their id>. Several, separated by spaces, are tried in order. Empty means handshake-pending.'
        : 'Label globs to pull, comma-separated, e.g. public:*, decision:*. Their public-prefix gate applies whatever you ask for.'
    const input = $('edit-value')
    input.value = field === 'url' ? urlList(peer).join(' ') : scopeText(peer.scope)
    input.placeholder = field === 'url' ? 'https://peer.tail-foo.ts.net' : 'public:*'
    $('edit-status').textContent = ''
    $('edit-dialog').showModal()
    input.select()
  }

  async function saveEdit(event) {
    event.preventDefault()
    if (!editing) return
    const { peer, field } = editing
    const raw = $('edit-value').value.trim()
    let patch
    if (field === 'url') {
      const urls = raw.split(/[\s,]+/).filter(Boolean)
      patch = { url: urls.length > 1 ? urls : (urls[0] ?? '') }
    }
    else {
      const scope = parseScope(raw)
      if (!scope) {
        $('edit-status').textContent = 'Give at least one glob, e.g. public:*'
        return
      }
      patch = { scope }
    }
    const save = $('edit-save')
    save.disabled = true
    try {
      await api('PATCH', `peer/peers/${peer.id}`, patch)
      closeDialog('edit-dialog')
      const card = state.cards.get(peer.id)
      if (card) {
        card.result.classList.remove('error-text')
        card.result.textContent = field === 'url' ? `URL set${raw ? '' : ' (cleared)'}.` : 'Scope saved; the next pull fetches what it now matches.'
      }
      await refreshPeers()
    } catch (err) {
      $('edit-status').textContent = err.message
    } finally {
      save.disabled = false
    }
  }

  // ---- remove dialog ---------------------------------------------------------------------------

  let removing = null

  function openRemove(peer, opener) {
    removing = { peer, opener }
    const who = peerLabel(peer)
    $('remove-title').textContent = `Remove ${who}?`
    $('remove-text').textContent =
      `${who} (${peer.id.slice(0, SHORT_ID_CHARS)}) will be refused from its very next request, and this pod stops pulling from it. ` +
      'Pairing again needs their handshake URL.'
    const purge = $('remove-purge')
    purge.checked = false
    $('remove-purge-label').textContent = `Also delete the ${copies(peer.memories ?? 0)} held here`
    $('remove-status').textContent = ''
    $('remove-dialog').showModal()
    $('remove-cancel').focus() // the safe choice has focus
  }

  async function confirmRemove(event) {
    event.preventDefault()
    if (!removing) return
    const { peer } = removing
    const purge = $('remove-purge').checked
    const btn = $('remove-confirm')
    btn.disabled = true
    try {
      const out = await api('DELETE', `peer/peers/${peer.id}${purge ? '?purge=true' : ''}`)
      removing.opener = $('peers-heading') // the opener is about to disappear
      closeDialog('remove-dialog')
      const purged = out?.purged ? `, ${copies(out.purged)} deleted` : ''
      $('sync-all-status').classList.remove('error-text')
      $('sync-all-status').textContent = `Removed ${peerLabel(peer)}${purged}.`
      await refreshAll()
    } catch (err) {
      $('remove-status').textContent = err.message
    } finally {
      btn.disabled = false
    }
  }

  function closeDialog(id) {
    const dialog = /** @type {HTMLDialogElement} */ ($(id))
    if (dialog.open) dialog.close()
  }

  function onDialogClosed(kind) {
    const ctx = kind === 'edit' ? editing : removing
    if (kind === 'edit') editing = null
    else removing = null
    // Put focus back where the operator was (the browser does not always, e.g. after a re-render).
    if (ctx?.opener?.isConnected) ctx.opener.focus()
  }

  // ---- add peer ---------------------------------------------------------------------------------

  async function addPeer(event) {
    event.preventDefault()
    const form = $('add-form')
    const status = $('add-status')
    const handshake = $('add-handshake').value.trim()
    const directUrl = $('add-url').value.trim()
    const scopeRaw = $('add-scope').value.trim()
    const name = $('add-name').value.trim()
    status.classList.add('error-text')
    if (!handshake) {
      status.textContent = 'Paste their handshake URL first (it starts with mzm-handshake://).'
      $('add-handshake').focus()
      return
    }
    const body = { handshake_url: handshake }
    if (directUrl) {
      const urls = directUrl.split(/[\s,]+/).filter(Boolean)
      body.direct_url = urls.length > 1 ? urls : urls[0]
    }
    if (scopeRaw) body.scope = parseScope(scopeRaw)
    if (name) body.name = name
    const submit = $('add-submit')
    submit.disabled = true
    status.classList.remove('error-text')
    status.textContent = 'Adding…'
    try {
      const { peer } = await api('POST', 'peer/add', body)
      form.reset()
      status.textContent = peer.url
        ? `Added ${peerLabel(peer)}. It can pull from this pod now; press Sync now to pull from it at once.`
        : `Added ${peerLabel(peer)} as handshake-pending: use Set URL once you know where to reach it.`
      await refreshAll()
    } catch (err) {
      status.classList.add('error-text')
      status.textContent = err.message
    } finally {
      submit.disabled = false
    }
  }

  // ---- memories ---------------------------------------------------------------------------------

  function updateOriginFilter(peers, shorts) {
    const select = $('memory-origin')
    const current = select.value
    const wanted = [
      ['', 'All origins'],
      ['local', 'Local'],
      ...peers.map((p) => [p.id, `${p.name || shorts.get(p.id)} (${shorts.get(p.id)})`]),
    ]
    const same = select.options.length === wanted.length && wanted.every(([v, t], i) => select.options[i].value === v && select.options[i].text === t)
    if (same) return
    select.replaceChildren(...wanted.map(([v, t]) => new Option(t, v)))
    select.value = wanted.some(([v]) => v === current) ? current : ''
  }

  function originName(peerId) {
    if (!peerId) return 'local'
    const peer = state.peers.find((p) => p.id === peerId)
    return peer ? peerLabel(peer) : peerId.slice(0, SHORT_ID_CHARS)
  }

  function memoryItem(m) {
    const origin = m.origin_peer ?? m.peer ?? null
    const li = document.createElement('li')
    li.className = 'memory'
    const head = document.createElement('div')
    head.className = 'memory-head'
    const label = document.createElement('code')
    label.className = 'memory-label'
    // A pulled copy is stored as peer:<id>:<label>; the origin tag already says which peer.
    const prefix = origin ? `peer:${origin}:` : ''
    label.textContent = prefix && m.label.startsWith(prefix) ? m.label.slice(prefix.length) : m.label
    label.title = m.label
    const tag = document.createElement('span')
    tag.className = origin ? 'tag tag-peer' : 'tag tag-local'
    tag.textContent = origin ? `from ${originName(origin)}` : 'local'
    head.append(label, tag)
    if (m.encrypted) {
      const priv = document.createElement('span')
      priv.className = 'tag tag-private'
      priv.textContent = 'private'
      priv.title = 'Encrypted at rest under vault.key; never served to peers'
      head.append(priv)
    }
    const when = m.updated_at ?? m.created_at
    if (when) {
      const time = document.createElement('time')
      time.className = 'memory-time'
      time.dateTime = when
      time.textContent = timeAgo(when)
      time.title = new Date(when).toLocaleString()
      head.append(time)
    }
    const body = document.createElement('p')
    body.className = 'memory-content'
    const content = String(m.content ?? '')
    body.textContent = content.length > CONTENT_PREVIEW_CHARS ? `${content.slice(0, CONTENT_PREVIEW_CHARS)}…` : content
    li.append(head, body)
    sharing.decorateMemory(li, m)
    return li
  }

  async function loadMemories({ append = false } = {}) {
    const list = $('memory-list')
    const status = $('memory-status')
    const more = $('memory-more')
    const origin = $('memory-origin').value
    const q = state.memoryQuery
    const seq = ++latest.memories
    try {
      let items
      if (q) {
        const { results } = await api('GET', `recall?${new URLSearchParams({ q, k: '50' })}`)
        items = results.filter((r) => origin === '' || (origin === 'local' ? !r.peer : r.peer === origin))
        state.memoryCursor = null
      } else {
        const params = new URLSearchParams({ limit: String(MEMORY_PAGE) })
        if (origin) params.set('origin', origin)
        if (append && state.memoryCursor) params.set('cursor', state.memoryCursor)
        const page = await api('GET', `memories?${params}`)
        if (seq !== latest.memories) return
        items = page.memories
        state.memoryCursor = page.cursor ?? null
      }
      if (seq !== latest.memories) return
      // The list is re-read every few seconds; rebuild it only when something (or the minute) changed,
      // so a refresh does not drop the operator's text selection.
      const key = `${origin}|${q}|${Math.floor(Date.now() / 60_000)}|${JSON.stringify(items)}`
      if (append) list.append(...items.map(memoryItem))
      else if (key !== state.memoryKey) list.replaceChildren(...items.map(memoryItem))
      state.memoryKey = append ? '' : key
      sharing.afterMemories()
      more.hidden = !state.memoryCursor
      const count = list.children.length
      status.classList.remove('error-text')
      status.textContent = q
        ? `${count} match${count === 1 ? '' : 'es'} for “${q}”.`
        : count === 0
          ? 'No memories yet.'
          : `${count} most recent${origin ? ` from ${origin === 'local' ? 'this pod' : originName(origin)}` : ''}.`
    } catch (err) {
      if (seq !== latest.memories) return
      status.classList.add('error-text')
      status.textContent = err.message
    }
  }

  // ---- refresh loop -------------------------------------------------------------------------------

  async function refreshAll() {
    if (!token) return
    state.lastRefresh = Date.now()
    try {
      if (!state.self) await loadIdentity()
      await refreshPeers()
      await refreshRendezvous()
      // Only the first page of the plain list follows the pod; a search or a paged list stays put.
      if (!state.memoryQuery && state.memoryPages === 1) await loadMemories()
      await sharing.refreshHeld()
    } catch (err) {
      if (err.status !== 401) setBanner(`Cannot reach the pod: ${err.message} Retrying every ${REFRESH_MS / 1000} s.`)
    }
  }

  function scheduleRefresh() {
    clearTimeout(state.refreshTimer)
    state.refreshTimer = setTimeout(async () => {
      const due = !state.live || Date.now() - state.lastRefresh >= LIVE_REFRESH_MS
      if (document.visibilityState === 'visible' && due) await refreshAll()
      if (token) scheduleRefresh()
    }, REFRESH_MS)
  }

  // ---- live stream --------------------------------------------------------------------------------
  // GET events (text/event-stream) read with fetch, so the admin token goes in the Authorization
  // header and never into a URL (the browser’s own event-stream reader cannot send headers). Peer status and arriving
  // memories then show without waiting for the next refresh.

  async function follow() {
    if (state.stream || !token) return
    const ctl = new AbortController()
    state.stream = ctl
    try {
      const res = await fetch('events', {
        headers: { Authorization: `Bearer ${token}`, Accept: 'text/event-stream' },
        cache: 'no-store',
        credentials: 'omit',
        signal: ctl.signal,
      })
      if (res.status === 401) return signedOut('The pod refused the token this tab had (was admin.token replaced?).')
      if (!res.ok || !res.body) return
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
      state.live = true
      document.body.dataset.live = 'on'
      let buf = ''
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        buf += value
        let end
        while ((end = buf.indexOf('\n\n')) >= 0) {
          onFrame(buf.slice(0, end))
          buf = buf.slice(end + 2)
        }
      }
    } catch {
      // the pod went away or the tab is closing: the retry below (or the poll) takes over
    } finally {
      if (state.stream === ctl) {
        state.live = false
        state.stream = null
        document.body.dataset.live = 'off'
      }
      if (token && !ctl.signal.aborted) setTimeout(follow, STREAM_RETRY_MS)
    }
  }

  function onFrame(raw) {
    let event = 'message'
    const data = []
    for (const line of raw.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim()
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''))
    }
    if (data.length === 0) return
    let payload
    try {
      // Same rule as api(): every string the server sends is made visible here.
      payload = JSON.parse(data.join('\n'), (_key, value) => (typeof value === 'string' ? shown(value) : value))
    } catch {
      return
    }
    if (event === 'peers') {
      ++latest.peers // a poll answer still in flight is older than this
      renderPeers(payload)
    } else if (event === 'memory' || event === 'skipped') {
      memoriesChanged()
    }
  }

  /** Re-reads the first page of the list soon (a burst of arrivals is one re-read). */
  function memoriesChanged() {
    if (state.memoryQuery || state.memoryPages !== 1) return
    clearTimeout(state.memoryTimer)
    state.memoryTimer = setTimeout(() => loadMemories(), 50)
  }

  // ---- wiring -------------------------------------------------------------------------------------

  // Memory editing, held memories, who receives what, a peer's preview and log (sharing.mjs).
  const sharing = createSharing({
    api,
    $,
    peers: () => state.peers,
    reload: async () => {
      await refreshAll()
      // refreshAll follows only the plain first page; a search or a longer list is re-read too.
      if (state.memoryQuery || state.memoryPages > 1) await loadMemories()
    },
  })

  $('copy-handshake').addEventListener('click', copyHandshake)
  $('sync-all').addEventListener('click', syncAll)
  $('add-form').addEventListener('submit', addPeer)
  $('edit-form').addEventListener('submit', saveEdit)
  $('edit-cancel').addEventListener('click', () => closeDialog('edit-dialog'))
  $('edit-dialog').addEventListener('close', () => onDialogClosed('edit'))
  $('remove-form').addEventListener('submit', confirmRemove)
  $('remove-cancel').addEventListener('click', () => closeDialog('remove-dialog'))
  $('remove-dialog').addEventListener('close', () => onDialogClosed('remove'))
  $('memory-search').addEventListener('submit', (event) => {
    event.preventDefault()
    state.memoryQuery = $('memory-q').value.trim()
    state.memoryPages = 1
    loadMemories()
  })
  $('memory-origin').addEventListener('change', () => {
    state.memoryPages = 1
    loadMemories()
  })
  $('memory-more').addEventListener('click', () => {
    state.memoryPages++
    loadMemories({ append: true })
  })
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && token) refreshAll()
  })

  function signedIn() {
    $('no-token').hidden = true
    $('dashboard').hidden = false
    refreshAll().then(scheduleRefresh)
    follow()
  }

  // Pasting a new `mazemaker open` link into this tab only changes the fragment: no reload.
  window.addEventListener('hashchange', () => {
    if (!new URLSearchParams(location.hash.slice(1)).has('token')) return
    token = takeToken()
    state.self = null
    state.stream?.abort() // opened with the old token
    state.stream = null
    if (token) signedIn()
  })

  if (token) signedIn()
  else signedOut('')
}

startPanel()
