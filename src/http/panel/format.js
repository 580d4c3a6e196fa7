// @ts-check
/**
 * How a peer reads to an operator, in the panel and in `mazemaker peer list` alike: status badges,
 * short ids, "2 min ago", scope and URL lists, and the search and status filter both offer.
 * A browser module with no imports at run time (the panel loads it as assets/format.js; the CLI
 * imports it as code), type-checked against the pod's vocabulary (src/lib/codes.ts).
 */
/** @import { PeerStatus } from '../../lib/codes.ts' */

/** Characters of an id shown where it must be short (identity's shortId uses the same). */
export const SHORT_ID_CHARS = 8

/**
 * Badge per status: the icon is decoration, the word is what a screen reader says. Typed as a
 * Record over every status, so a new status that is not given a look here does not compile.
 * @type {Readonly<Record<PeerStatus, { icon: string, word: string }>>}
 */
export const STATUS_LOOK = {
  'disk-full': { icon: '✕', word: 'disk-full' },
  error: { icon: '✕', word: 'error' },
  held: { icon: '!', word: 'held' },
  revoked: { icon: '', word: 'revoked' },
  'awaiting-peer': { icon: '◖', word: 'awaiting-peer' },
  'handshake-pending': { icon: '◖', word: 'handshake-pending' },
  ready: { icon: '•', word: 'ready' },
  paused: { icon: '‖', word: 'paused' },
}

/**
 * "• ready", "✕ error", "revoked"; an unknown status (a newer pod) as its own word.
 * @param {string} status
 */
export function statusText(status) {
  const look = /** @type {Record<string, { icon: string, word: string } | undefined>} */ (STATUS_LOOK)[status]
  if (!look) return status
  return look.icon ? `${look.icon} ${look.word}` : look.word
}

/** @param {string} id @returns {string} the first SHORT_ID_CHARS characters */
export function shortId(id) {
  return id.slice(0, SHORT_ID_CHARS)
}

/**
 * Shortest prefix (at least SHORT_ID_CHARS) that tells every id in `ids` apart; where two share
 * the short form, more characters rather than a wrong match. Sorted, so 2,000 ids cost one sort.
 * @param {readonly string[]} ids
 * @returns {Map<string, string>}
 */
export function shortIds(ids) {
  const sorted = [...new Set(ids)].sort()
  /** Characters `a` and `b` have in common from the start. */
  const common = (/** @type {string} */ a, /** @type {string} */ b) => {
    let n = 0
    while (n < a.length && a[n] === b[n]) n++
    return n
  }
  const out = new Map()
  sorted.forEach((id, i) => {
    // Only the neighbours in sorted order can share the longest prefix with `id`.
    const before = i > 0 ? common(id, /** @type {string} */ (sorted[i - 1])) : 0
    const after = i + 1 < sorted.length ? common(id, /** @type {string} */ (sorted[i + 1])) : 0
    out.set(id, id.slice(0, Math.max(SHORT_ID_CHARS, Math.max(before, after) + 1)))
  })
  return out
}

/**
 * "just now", "2 min ago", "3 h ago", "4 d ago"; "never" for null or an unreadable time.
 * @param {string | null | undefined} iso
 * @param {number} nowMs
 */
export function timeAgo(iso, nowMs) {
  if (!iso) return 'never'
  const then = Date.parse(iso)
  if (Number.isNaN(then)) return 'never'
  // A peer's clock a little ahead of ours must not print "-1 min ago".
  const s = Math.max(0, Math.round((nowMs - then) / 1000))
  if (s < 60) return 'just now'
  if (s < 3600) return `${Math.floor(s / 60)} min ago`
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`
  return `${Math.floor(s / 86400)} d ago`
}

/** @param {string | readonly string[] | null | undefined} scope @returns {string} "public:*, decision:*" */
export function scopeText(scope) {
  return Array.isArray(scope) ? scope.join(', ') : String(scope ?? '')
}

/**
 * A peer's URLs as a list, whatever shape the answer used ("" / one URL / a list).
 * @param {{ urls?: readonly string[], url: string | readonly string[] }} peer
 * @returns {readonly string[]}
 */
export function urlList(peer) {
  if (Array.isArray(peer.urls)) return peer.urls
  if (Array.isArray(peer.url)) return peer.url
  return typeof peer.url === 'string' && peer.url ? [peer.url] : []
}

/** @param {number} n @param {string} one @param {string} many */
export function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`
}

/**
 * Does `peer` match what the operator typed? Case-insensitive, in its name or anywhere in its id
 * (so a short id, or one pasted from a log line, finds it). Empty matches every peer.
 * @param {{ id: string, name: string }} peer
 * @param {string} query
 */
export function peerMatches(peer, query) {
  const q = query.trim().toLowerCase()
  if (q === '') return true
  return peer.name.toLowerCase().includes(q) || peer.id.includes(q)
}

/**
 * Peers with one of `statuses` (all when empty) whose name or id matches `query`, in the order
 * given (the pod's own: problems first).
 * @template {{ id: string, name: string, status: string }} P
 * @param {readonly P[]} peers
 * @param {{ statuses?: ReadonlySet<string>, query?: string }} filter
 * @returns {P[]}
 */
export function filterPeers(peers, { statuses, query = '' }) {
  return peers.filter((p) => (!statuses || statuses.size === 0 || statuses.has(p.status)) && peerMatches(p, query))
}

/**
 * How many peers have each status, in the vocabulary's order (the filter buttons read left to right).
 * @param {readonly { status: string }[]} peers
 * @returns {Map<PeerStatus, number>}
 */
export function statusCounts(peers) {
  /** @type {Map<PeerStatus, number>} */
  const counts = new Map()
  for (const s of /** @type {PeerStatus[]} */ (Object.keys(STATUS_LOOK))) counts.set(s, 0)
  for (const p of peers) {
    const s = /** @type {PeerStatus} */ (p.status)
    if (counts.has(s)) counts.set(s, (counts.get(s) ?? 0) + 1)
  }
  return counts
}

/**
 * The pod's order of a peer list: problems first (STATUS_LOOK's order, which is the vocabulary's),
 * then by name, then by id, as src/sync/peer-overview.ts sorts it. An unknown status (a newer pod) goes last.
 * @param {{ id: string, name: string, status: string }} a
 * @param {{ id: string, name: string, status: string }} b
 */
export function comparePeers(a, b) {
  const byStatus = statusRank(a.status) - statusRank(b.status)
  if (byStatus !== 0) return byStatus
  const [x, y] = [a.name.toLowerCase(), b.name.toLowerCase()]
  if (x !== y) return x < y ? -1 : 1
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

const STATUS_ORDER = Object.keys(STATUS_LOOK)

/** @param {string} status */
function statusRank(status) {
  const i = STATUS_ORDER.indexOf(status)
  return i < 0 ? STATUS_ORDER.length : i
}

/**
 * A peer list after a `peers-changed` frame: `changed` replace or join by id, `removed` leave,
 * and the result is in the pod's order (comparePeers).
 * @template {{ id: string, name: string, status: string }} P
 * @param {readonly P[]} peers
 * @param {{ peers: readonly P[], removed: readonly string[] }} change
 * @returns {P[]}
 */
export function applyPeerChanges(peers, change) {
  const byId = new Map(peers.map((p) => [p.id, p]))
  for (const id of change.removed) byId.delete(id)
  for (const p of change.peers) byId.set(p.id, p)
  return [...byId.values()].sort(comparePeers)
}
