/** Naming a peer on the command line. */
import { PodError } from '../lib/errors'
import { answer, type PodClient } from './context'

/** A peer may be named by full id, a unique id prefix (the short id), or its name. */
export async function findPeer(pod: PodClient, ref: string): Promise<string> {
  const { peers } = await answer(pod.api.peer.peers.$get())
  const matches = peers.filter((p) => p.id === ref || p.name === ref || (ref.length >= 4 && p.id.startsWith(ref)))
  if (matches.length === 1) return matches[0]!.id
  if (matches.length === 0) throw new PodError('not_found', `no peer "${ref}"; see: mazemaker peer list`)
  throw new PodError('usage', `"${ref}" matches ${matches.length} peers; give more of the id`)
}
