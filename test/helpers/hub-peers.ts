/**
 * A hub's peers.toml, written as an operator's provisioning script would (the pod reads it
 * live): `count` peers with real X25519 keys, named `spoke-0001`…, in a mix of states a hub
 * sees: most with a URL that refuses (127.0.0.1:9, so their pulls fail: error), some without a
 * URL (handshake-pending), some paused. Used by the panel's hub-scale test and its bench.
 */
import { generateKeyPairSync } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { homePaths, type PodId } from '../../src/identity'
import { formatPeersToml } from '../../src/identity/peers-toml'
import type { PeerEntry } from '../../src/identity/types'
import { writeFileAtomic } from '../../src/lib/atomic-file'
import { identityOf } from './federation'
import type { TestPod } from './pod-process'

/** A URL nothing answers on (the discard port): pulls fail at once with request_failed. */
export const REFUSING_URL = 'http://127.0.0.1:9'

export interface HubPeer {
  id: PodId
  name: string
  key: string
  url: string
  sync: boolean
}

/** Every `pendingEvery`-th peer has no URL, every `pausedEvery`-th is paused. */
export function writeHubPeers(home: string, selfId: string, count: number, opts: { pendingEvery?: number; pausedEvery?: number } = {}): HubPeer[] {
  const { pendingEvery = 20, pausedEvery = 25 } = opts
  const paths = homePaths(home)
  const peers: HubPeer[] = []
  const entries: PeerEntry[] = []
  for (let i = 1; i <= count; i++) {
    const jwk = generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' })
    const peer = {
      id: crypto.randomUUID() as PodId,
      name: `spoke-${String(i).padStart(4, '0')}`,
      key: String(jwk.x),
      url: i % pendingEvery === 0 ? '' : REFUSING_URL,
      sync: i % pausedEvery !== 0,
    }
    peers.push(peer)
    // Plain writes (no fsync per file: 2,000 of those take seconds); peers.toml, written last and
    // atomically, is what makes them relationships.
    writeFileSync(join(paths.peerKeyDir, `${peer.id}.key`), `${peer.key}\n`, { mode: 0o600 })
    entries.push({ id: peer.id, name: peer.name, url: peer.url, sync: peer.sync, scope: ['public:*'] })
  }
  writeFileAtomic(paths.peersToml, formatPeersToml(entries, selfId as PodId), 0o600)
  return peers
}

/**
 * A hub that has been running: `count` peers written as writeHubPeers does, listed by the pod
 * (it reads peers.toml live), pulled once (sync-now; a hand-written peers.toml is otherwise pulled
 * at the next interval) and with those pulls failed (status error), as an operator finds it.
 */
export async function hubWithFailedPulls(pod: TestPod, count: number): Promise<HubPeer[]> {
  const peers = writeHubPeers(pod.home, (await identityOf(pod)).pod_id, count)
  const failing = peers.filter((p) => p.url !== '' && p.sync).length
  while ((await pod.api<{ peers: unknown[] }>('GET', '/peer/peers')).body.peers.length !== count) await Bun.sleep(100)
  await pod.api('POST', '/peer/sync-now', {})
  for (;;) {
    const { body } = await pod.api<{ peers: { status: string }[] }>('GET', '/peer/peers')
    if (body.peers.filter((p) => p.status === 'error').length === failing) return peers
    await Bun.sleep(100)
  }
}
