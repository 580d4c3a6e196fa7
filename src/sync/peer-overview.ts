/**
 * What the operator sees per peer: status, last success, last error, copies held, and the
 * one-line summary "N ready · M handshake-pending" (other states appended when present).
 */
import { peerUrls, type PeerRecord } from '../identity'
import type { Store } from '../store'
import type { PeersOverview, PeerStatus, PeerView } from '../api/types'

export type OverviewStore = Pick<Store, 'peerState' | 'countPeerCopies'>

/** What awaiting-peer asks of the operator. */
export const AWAITING_PEER_MESSAGE = 'they have not added this pod yet: send them your handshake URL (mazemaker identity)'

/**
 * A peer that refuses us (`unauthorized`) before any pull from it ever succeeded has most
 * likely not pasted our handshake URL yet: that is `awaiting-peer`, not an error.
 */
export function peerStatus(
  peer: PeerRecord,
  failures: number,
  reachableUrl: string | null,
  heldDeletes = 0,
  history: { lastError?: string | null; lastSyncAt?: string | null } = {},
): PeerStatus {
  if (!peer.key) return 'revoked'
  if (!peer.sync) return 'paused'
  if (!reachableUrl) return 'handshake-pending'
  // Held needs the operator; a pull failure usually recovers by itself.
  if (heldDeletes > 0) return 'held'
  if (failures > 0 && !history.lastSyncAt && history.lastError?.startsWith('unauthorized')) return 'awaiting-peer'
  if (failures > 0) return 'error'
  return 'ready'
}

/** What a held mass delete asks of the operator. */
export function heldMessage(peerId: string, held: number, copies: number): string {
  return `held: the peer deleted ${held} of the ${copies} copies we hold from it; nothing was deleted here. If that is expected, accept with \`mazemaker peer accept-deletes ${peerId}\` (or the panel); otherwise remove or pause the peer`
}

/** `reachableUrl(peer)`: the direct URL, the last URL a rendezvous resolved, or null. */
export function peersOverview(
  records: PeerRecord[],
  store: OverviewStore,
  reachableUrl: (peer: PeerRecord) => string | null,
  error: string | null,
): PeersOverview {
  const peers = records.map((p): PeerView => {
    const state = store.peerState(p.id)
    const url = reachableUrl(p)
    const copies = store.countPeerCopies(p.id)
    const status = peerStatus(p, state.consecutive_failures, url, state.held_deletes, { lastError: state.last_error, lastSyncAt: state.last_sync_at })
    return {
      id: p.id,
      name: p.name,
      url: p.url,
      urls: peerUrls(p),
      sync: p.sync,
      live: p.live !== false,
      scope: p.scope.length === 1 ? p.scope[0]! : p.scope,
      status,
      last_sync_at: state.last_sync_at,
      last_error:
        status === 'held'
          ? heldMessage(p.id, state.held_deletes, copies)
          : status === 'awaiting-peer'
            ? AWAITING_PEER_MESSAGE
            : state.consecutive_failures > 0
              ? state.last_error
              : null,
      memories: copies,
      resolved_url: url !== p.url ? url : null,
    }
  })
  return { peers, summary: summarize(peers), error }
}

export function summarize(peers: { status: PeerStatus }[]): string {
  const count = (s: PeerStatus) => peers.filter((p) => p.status === s).length
  const parts = [`${count('ready')} ready`, `${count('handshake-pending')} handshake-pending`]
  for (const s of ['awaiting-peer', 'held', 'error', 'paused', 'revoked'] as const) if (count(s) > 0) parts.push(`${count(s)} ${s}`)
  return parts.join(' · ')
}
