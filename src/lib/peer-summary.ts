/**
 * The one-line summary of a pod's peers, "N ready · M handshake-pending" (other statuses
 * appended when present): GET /peer/peers, GET /status, the event stream and `peer list` say it alike.
 */
import { PEER_STATUSES, type PeerStatus } from './codes'

/** "N ready · M handshake-pending", then every other status present, in PEER_STATUSES' order. */
export function summarize(peers: Iterable<{ status: PeerStatus }>): string {
  const counts = new Map<PeerStatus, number>()
  for (const p of peers) counts.set(p.status, (counts.get(p.status) ?? 0) + 1)
  const count = (s: PeerStatus) => counts.get(s) ?? 0
  const parts = [`${count('ready')} ready`, `${count('handshake-pending')} handshake-pending`]
  for (const s of PEER_STATUSES) if (s !== 'ready' && s !== 'handshake-pending' && count(s) > 0) parts.push(`${count(s)} ${s}`)
  return parts.join(' · ')
}
