/**
 * What the operator sees per peer: status, the cause and next step of any state but ready
 * (`hint`), last success, last error, copies held, and the one-line summary "N ready · M
 * handshake-pending" (other states appended when present). Every surface (CLI, API, panel,
 * `mazemaker sync`) reads the status from here, so they agree from the moment a peer is added.
 */
import { peerUrls, type PeerRecord, type PodId } from '../identity'
import { statusRank } from '../lib/codes'
import { summarize } from '../lib/peer-summary'
import { noSyncState, type PeerSyncState, type Store } from '../store'
import type { PeersOverview, PeerStatus, PeerView } from '../api/types'
import { AWAITING_PEER_MESSAGE, peerHint, type RendezvousUse } from './peer-hints'
import type { LookupMiss } from './rendezvous-client'

export { AWAITING_PEER_MESSAGE, type RendezvousUse } from './peer-hints'
export { summarize } from '../lib/peer-summary'

/** What one peer's view reads of the store. */
export type OverviewStore = Pick<Store, 'peerState' | 'countPeerCopies'>

/**
 * A peer has not answered us with its key yet (no pull ever succeeded, no page ever stored) from
 * the moment it is added: `awaiting-peer`, "they have not added this pod yet". A refusal
 * (`unauthorized`) before any answer says the same. Any other failure before the first answer
 * (no route, a proxy's 502) is an `error`: it is not theirs to fix by pasting.
 */
export function peerStatus(
  peer: PeerRecord,
  failures: number,
  reachableUrl: string | null,
  heldDeletes = 0,
  history: { lastError?: string | null; lastSyncAt?: string | null; cursor?: string | null; diskFull?: boolean } = {},
): PeerStatus {
  if (!peer.key) return 'revoked'
  if (!peer.sync) return 'paused'
  if (!reachableUrl) return 'handshake-pending'
  // Our own disk refused its last pull: nothing the peer did, and nothing recorded in the store.
  if (history.diskFull) return 'disk-full'
  // Held needs the operator; a pull failure usually recovers by itself.
  if (heldDeletes > 0) return 'held'
  const answered = Boolean(history.lastSyncAt) || Boolean(history.cursor)
  if (!answered && (failures === 0 || history.lastError?.startsWith('unauthorized'))) return 'awaiting-peer'
  if (failures > 0) return 'error'
  return 'ready'
}

/** What a held mass change (deletes and overwrites) asks of the operator. */
export function heldMessage(peerId: string, held: number, copies: number): string {
  return `held: the peer deleted or rewrote ${held} of the ${copies} copies we hold from it within a day; nothing of that was changed here. If that is expected, accept with \`mazemaker peer accept-deletes ${peerId}\` (or the panel); otherwise remove or pause the peer`
}

/**
 * Where an overview looks beyond the store.
 * `reachableUrl(peer)`: the direct URL, the last URL a rendezvous resolved, or null.
 * `rendezvous()`: whether this pod uses a rendezvous (asked only for a pending rendezvous peer);
 * `lookupMiss(peer)`: why its last rendezvous lookup found nothing (asked only for pending peers).
 * `headerNames(id)`: names of the secret headers sent to that peer (never their values).
 * `diskFull(id)`: why this pod's full disk refused the peer's last pull (the sync loop's memory), or null.
 */
export interface OverviewContext {
  reachableUrl: (peer: PeerRecord) => string | null
  rendezvous?: () => RendezvousUse
  lookupMiss?: (peer: PeerRecord) => LookupMiss | null
  headerNames?: (id: PodId) => string[]
  diskFull?: (id: PodId) => string | null
}

/**
 * Every peer as GET /peer/peers shows it. Peers come problems first (PEER_STATUSES' order), then
 * by name and id: the order of `peer list`, its `--json` and the panel.
 */
export function peersOverview(
  records: PeerRecord[],
  store: Pick<Store, 'peerStates' | 'copyCounts'>,
  error: string | null,
  ctx: OverviewContext,
): PeersOverview {
  const read = readForAll(store)
  const peers = records.map((p) => peerView(p, read, ctx))
  peers.sort(problemsFirst)
  return { peers, summary: summarize(peers), error }
}

/**
 * What every peer's view reads, read once for all of them: every state and copy count in two
 * queries, not two a peer (a hub of 2,000 peers made 8,000 a listing: /metrics, the panel,
 * `peer list`).
 */
export function readForAll(store: Pick<Store, 'peerStates' | 'copyCounts'>): OverviewStore {
  const states = store.peerStates()
  let counts: ReadonlyMap<string, number> | null = null
  return {
    peerState: (id) => states.get(id) ?? noSyncState(id),
    countPeerCopies: (id) => (counts ??= store.copyCounts()).get(id) ?? 0,
  }
}

/** The status alone, as peerView would give it (no copies counted, no hint): for summaries. */
export function peerStatusNow(p: PeerRecord, store: Pick<Store, 'peerState'>, ctx: Pick<OverviewContext, 'reachableUrl' | 'diskFull'>): PeerStatus {
  return statusFrom(p, store.peerState(p.id), ctx.reachableUrl(p), ctx.diskFull?.(p.id) ?? null)
}

function statusFrom(p: PeerRecord, state: PeerSyncState, url: string | null, diskFull: string | null): PeerStatus {
  return peerStatus(p, state.consecutive_failures, url, state.held_deletes, {
    lastError: state.last_error,
    lastSyncAt: state.last_sync_at,
    cursor: state.cursor,
    diskFull: diskFull !== null,
  })
}

/** One peer as GET /peer/peers shows it (see peersOverview). */
export function peerView(p: PeerRecord, store: OverviewStore, ctx: OverviewContext): PeerView {
  const state = store.peerState(p.id)
  const { url, full, status, hint } = judge(p, state, ctx)
  const copies = store.countPeerCopies(p.id)
  return {
    id: p.id,
    name: p.name,
    url: p.url,
    urls: peerUrls(p),
    sync: p.sync,
    live: p.live !== false,
    scope: p.scope.length === 1 ? p.scope[0]! : p.scope,
    status,
    hint,
    last_sync_at: state.last_sync_at,
    last_error:
      status === 'disk-full'
        ? full
        : status === 'held'
          ? heldMessage(p.id, state.held_deletes, copies)
          : status === 'awaiting-peer' && state.consecutive_failures > 0
            ? AWAITING_PEER_MESSAGE
            : state.consecutive_failures > 0
              ? state.last_error
              : null,
    memories: copies,
    resolved_url: url !== p.url ? url : null,
    ...(ctx.headerNames ? { headers: ctx.headerNames(p.id) } : {}),
  }
}

/** A peer's status and hint as peerView gives them, without counting its copies (what sync-now answers with). */
export function peerStatusHint(p: PeerRecord, store: Pick<Store, 'peerState'>, ctx: OverviewContext): Pick<PeerView, 'status' | 'hint'> {
  const { status, hint } = judge(p, store.peerState(p.id), ctx)
  return { status, hint }
}

/** What a peer's state and the pod's context say of it: the URL it is reached at, a full disk's message, its status and hint. */
function judge(p: PeerRecord, state: PeerSyncState, ctx: OverviewContext) {
  const url = ctx.reachableUrl(p)
  const full = ctx.diskFull?.(p.id) ?? null
  const status = statusFrom(p, state, url, full)
  const hint = peerHint({
    status,
    peer: p,
    lastError: state.last_error,
    lastSyncAt: state.last_sync_at,
    rendezvous: ctx.rendezvous ?? (() => 'none'),
    lookupMiss: status === 'handshake-pending' ? (ctx.lookupMiss?.(p) ?? null) : null,
    diskFull: full,
  })
  return { url, full, status, hint }
}

/** The order of every peer list: problems first (PEER_STATUSES' order), then by name and id. */
export function problemsFirst(a: PeerView, b: PeerView): number {
  const byStatus = statusRank(a.status) - statusRank(b.status)
  if (byStatus !== 0) return byStatus
  const [x, y] = [a.name.toLowerCase(), b.name.toLowerCase()]
  if (x !== y) return x < y ? -1 : 1
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}
