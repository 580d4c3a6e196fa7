/**
 * The serving pod is killed mid-pull: the puller logs request_failed, keeps trying on its own,
 * and once the pod is back completes with every memory exactly once, with no operator action.
 */
import { afterEach, expect, test } from 'bun:test'
import { openHome } from '../../src/identity'
import { openStore } from '../../src/store'
import { systemClock } from '../../src/lib/clock'
import { memoryLogger } from '../../src/lib/log'
import { cleanup, spawnPod, type PodProcess } from '../helpers/pod-process'
import { identityOf, pair } from '../helpers/federation'

const N = 20_000
let pods: PodProcess[] = []
afterEach(async () => {
  await cleanup(pods)
  pods = []
})

async function copies(pod: PodProcess, peerId: string): Promise<number> {
  const stats = await pod.api('GET', '/status')
  void stats
  const peers = await pod.api('GET', '/peer/peers')
  return (peers.body.peers as { id: string; memories: number }[]).find((p) => p.id === peerId)?.memories ?? 0
}

test('killed mid-pull: request_failed, retried with backoff, completes exactly once', async () => {
  let a = await spawnPod()
  const b = await spawnPod()
  pods.push(a, b)
  const idA = (await identityOf(a)).pod_id
  const port = new URL(a.url).port
  await pair(a, b)

  // Fill A's store directly (A stopped), then bring it back on the same port.
  await a.stop()
  const home = await openHome(a.home, { log: memoryLogger() })
  const store = openStore({ path: home.paths.db, vaultKey: home.identity.vaultKey, publicPrefixes: home.config.public_prefixes, maxContentBytes: 65536, clock: systemClock })
  for (let i = 0; i < N; i++) store.remember({ label: `public:m${i}`, content: `memory number ${i} with some words to make pages heavier ${'x'.repeat(200)}` })
  store.close()
  a = await spawnPod({ home: a.home, args: ['--port', port] })
  pods.push(a)

  const pull = b.api('POST', '/peer/sync-now', {})
  // Kill A once part of the data has arrived.
  for (let i = 0; i < 2000; i++) {
    const n = await copies(b, idA)
    if (n > 0) break
    await Bun.sleep(5)
  }
  await a.kill9()
  const first = (await pull).body.results[0]
  expect(first.ok).toBe(false)
  expect(first.error).toBe('request_failed')
  const partial = await copies(b, idA)
  expect(partial).toBeGreaterThan(0)
  expect(partial).toBeLessThan(N)
  expect(b.logs()).toMatch(/op=sync err=request_failed/)

  // Back on the same URL; B's own backoff retries it.
  a = await spawnPod({ home: a.home, args: ['--port', port] })
  pods.push(a)
  const deadline = Date.now() + 40_000
  while (Date.now() < deadline && (await copies(b, idA)) < N) await Bun.sleep(200)
  expect(await copies(b, idA)).toBe(N)
  const listed = await b.api('GET', '/peer/peers')
  expect(listed.body.peers[0].status).toBe('ready')
  expect(b.logs()).toContain('peer recovered')
}, 90_000)
