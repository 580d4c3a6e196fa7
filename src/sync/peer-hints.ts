/**
 * What each state of a relationship asks of the operator: its cause and the next step, in one
 * line (`hint` in GET /peer/peers, the CLI and the panel). Every state but `ready` has one.
 */
import { RENDEZVOUS_SCHEME, peerUrls, type PeerRecord, shortId } from '../identity'
import type { PeerStatus } from '../api/types'
import type { LookupMiss } from './rendezvous-client'

/** What awaiting-peer asks of the operator. */
export const AWAITING_PEER_MESSAGE = 'they have not added this pod yet: send them your handshake URL (mazemaker identity)'

/**
 * Where this pod stands with a rendezvous: joined and in use (`active`), joined in pod.toml after
 * the pod started (`restart`: pod.toml is read at start), or none.
 */
export type RendezvousUse = 'active' | 'restart' | 'none'

export interface HintFacts {
  status: PeerStatus
  peer: PeerRecord
  lastError: string | null
  lastSyncAt: string | null
  rendezvous: () => RendezvousUse
  /** Why the last rendezvous lookup of this peer found nothing (peer-locator.ts), if it did. */
  lookupMiss?: LookupMiss | null
  /** Why this pod's full disk refused the last pull (DiskFull's message: the filesystem and its free space). */
  diskFull?: string | null
}

/** A peer that answered us before and now refuses our key: the other side removed or re-keyed us. */
export function removedByPeer(status: PeerStatus, lastError: string | null, lastSyncAt: string | null): boolean {
  return status === 'error' && lastSyncAt !== null && lastError?.startsWith('unauthorized') === true
}

export function peerHint(f: HintFacts): string | null {
  const id = f.peer.id
  const short = shortId(id)
  switch (f.status) {
    case 'ready':
      return null
    case 'disk-full':
      return `its last pull stored nothing: ${f.diskFull ?? "this pod's disk is full; free some space (nothing stored is lost, writes resume by themselves)"}`
    case 'awaiting-peer':
      return AWAITING_PEER_MESSAGE
    case 'paused':
      return `sync = false: nothing is pulled from it (it can still pull from you); resume with \`mazemaker peer resume ${short}\``
    case 'revoked':
      return `no key file for it (peer-keys/peers/${id}.key): revoked; to pair again paste their handshake URL with \`mazemaker peer add '<url>' --replace\``
    case 'held':
      return `a mass change (deletes or overwrites) is held: accept it with \`mazemaker peer accept-deletes ${short}\` if it is expected`
    case 'handshake-pending':
      return pendingHint(f)
    case 'error':
      if (removedByPeer(f.status, f.lastError, f.lastSyncAt)) {
        return `removed by peer? it answered until ${f.lastSyncAt} and now refuses this pod's key (401): they may have removed or re-keyed this pod; ask them, and if they pair again, paste their new handshake URL with \`mazemaker peer add '<url>' --replace\``
      }
      return `the last pull failed; \`mazemaker peer test ${short}\` checks each step and says what to fix`
  }
}

function pendingHint(f: HintFacts): string {
  const short = shortId(f.peer.id)
  const viaRendezvous = peerUrls(f.peer).some((u) => u.toLowerCase().startsWith(RENDEZVOUS_SCHEME))
  const setUrl = `set a URL with \`mazemaker peer set ${short} --url https://…\``
  if (!viaRendezvous) {
    return `no URL for it yet: ${setUrl}, or ask them to advertise one (\`mazemaker advertise add …\`) and paste their new handshake URL with --replace`
  }
  switch (f.rendezvous()) {
    case 'none':
      return `it is to be found through a rendezvous, but this pod has joined none: \`mazemaker rendezvous join <url> --token …\` (then restart the pod), or ${setUrl}`
    case 'restart':
      return 'this pod joined a rendezvous after it started: restart the pod to use it (pod.toml is read at start)'
    case 'active':
      if (f.lookupMiss?.cause === 'rendezvous_unreachable') {
        return `the rendezvous did not answer the lookup (${f.lookupMiss.detail}): it is asked again within a minute; if it stays down, ${setUrl}`
      }
      return `the rendezvous has no address for it yet: their pod must run and have joined the same rendezvous (it registers every minute); or ${setUrl}`
  }
}
