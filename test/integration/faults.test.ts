/**
 * The serving pod is killed (SIGKILL) mid-pull: the puller logs request_failed, retries on its
 * own backoff and, once the pod is back, completes with every memory exactly once, with no
 * operator action. The server is a real process killed for real; the puller runs in this
 * process on a FakeClock, so its 5 s backoff is stepped, not slept through.
 */
import { afterEach, expect, test } from 'bun:test'
import { openHome, type PodId, type PublicKey } from '../../src/identity'
import { openStore } from '../../src/store'
import { FakeClock, SECOND_MS, systemClock } from '../../src/lib/clock'
import { memoryLogger } from '../../src/lib/log'
import { startPod, type Pod } from '../../src/pod'
import { BACKOFF_BASE_MS } from '../../src/sync/constants'
import { cleanup, spawnPod, tempHome, type PodProcess } from '../helpers/pod-process'
import { identityOf } from '../helpers/federation'

/** Eight pages of 500. */
const N = 4_000
let procs: PodProcess[] = []
let pods: Pod[] = []
let homes: string[] = []
afterEach(async () => {
  for (const p of pods) await p.close()
  await cleanup(procs, homes)
  procs = []
  pods = []
  homes = []
})

async function until(cond: () => boolean, ms: number, what: string) {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(5)
  }
}

test('killed mid-pull: request_failed, retried with backoff, completes exactly once', async () => {
  let a = await spawnPod()
  procs.push(a)
  // The puller's clock starts at real time: A checks request timestamps against its own clock.
  const clock = new FakeClock(Date.now())
  const log = memoryLogger()
  const home = tempHome()
  homes.push(home)
  const b = await startPod({ home, port: 0, host: '127.0.0.1', clock, log })
  pods.push(b)
  const idA = (await identityOf(a)).pod_id as PodId
  const keyA = (await identityOf(a)).key as PublicKey
  const port = new URL(a.url).port
  b.home.peers.add({ id: idA, key: keyA, url: a.url })
  expect((await a.api('POST', '/peer/add', { handshake_url: b.home.identity.handshakeUrl(), direct_url: b.url })).status).toBe(201)

  // Fill A's store directly (A stopped), then bring it back on the same port.
  await a.stop()
  const aHome = await openHome(a.home, { log: memoryLogger() })
  const store = openStore({
    path: aHome.paths.db,
    vaultKey: aHome.identity.vaultKey,
    publicPrefixes: aHome.config.public_prefixes,
    maxContentBytes: 65536,
    clock: systemClock,
    durable: false, // a fill: what is stored matters here, not when it reaches the disk
  })
  for (let i = 0; i < N; i++) store.remember({ label: `public:m${i}`, content: `memory number ${i} with some words to make pages heavier ${'x'.repeat(200)}` })
  store.close()
  a = await spawnPod({ home: a.home, args: ['--port', port] })
  procs.push(a)

  // Kill A in the same synchronous step as B's commit of the first page: the pull is cut with
  // most pages still to come (only what is already on the wire can still arrive).
  const firstPage = new Promise<void>((resolve) => {
    const off = b.store.onCommit(
      () => {
        a.proc.kill('SIGKILL')
        off()
        resolve()
      },
      { copies: true },
    )
  })
  const pull = b.syncNow(idA)
  await firstPage
  await a.kill9()
  const [first] = await pull
  expect(first).toMatchObject({ ok: false, error: 'request_failed' })
  const partial = b.store.countPeerCopies(idA)
  expect(partial).toBeGreaterThan(0)
  expect(partial).toBeLessThan(N)
  expect(log.lines.join('\n')).toMatch(/op=sync err=request_failed/)
  expect(b.store.peerState(idA).consecutive_failures).toBe(1)

  // Back on the same URL; nothing happens until B's own backoff (5 s on its clock) is due.
  a = await spawnPod({ home: a.home, args: ['--port', port] })
  procs.push(a)
  clock.advance(BACKOFF_BASE_MS - SECOND_MS)
  await Bun.sleep(20)
  expect(b.store.countPeerCopies(idA)).toBe(partial)
  clock.advance(SECOND_MS)
  await until(() => b.store.peerState(idA).last_sync_at !== null, 60_000, 'the retry to complete')
  // N rows under the (origin peer, origin id) key: every memory, none twice.
  expect(b.store.countPeerCopies(idA)).toBe(N)
  const peers = (await (await fetch(b.url + '/peer/peers', { headers: { authorization: `Bearer ${b.home.identity.adminToken}` } })).json()) as {
    peers: { id: string; status: string }[]
  }
  expect(peers.peers.find((p) => p.id === idA)?.status).toBe('ready')
  expect(log.lines.join('\n')).toContain('peer recovered')
}, 90_000)
