/**
 * The five-minute tick with an injected clock: two in-process pods share one FakeClock; advancing
 * it by the interval fires exactly one pull, and a failing peer backs off and recovers by itself.
 */
import { afterEach, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import { FakeClock, MINUTE_MS } from '../../src/lib/clock'
import { memoryLogger } from '../../src/lib/log'
import { startPod, type Pod } from '../../src/pod'
import { tempHome } from '../helpers/pod-process'

let pods: Pod[] = []
let homes: string[] = []
afterEach(async () => {
  for (const p of pods) await p.close()
  for (const h of homes) rmSync(h, { recursive: true, force: true })
  pods = []
  homes = []
})

async function twoPods(clock: FakeClock) {
  const logs = [memoryLogger(), memoryLogger()]
  const started = []
  for (const log of logs) {
    const home = tempHome()
    homes.push(home)
    started.push(await startPod({ home, port: 0, host: '127.0.0.1', clock, log }))
  }
  pods.push(...started)
  const [a, b] = started as [Pod, Pod]
  b.home.peers.add({ id: a.home.identity.podId, key: a.home.identity.publicKey, url: a.url, scope: 'public:*' })
  a.home.peers.add({ id: b.home.identity.podId, key: b.home.identity.publicKey, url: b.url, scope: 'public:*' })
  return { a, b, logB: logs[1]! }
}

/** Lets the loop run until it is asleep on the clock again. */
async function settle(clock: FakeClock) {
  for (let i = 0; i < 200; i++) {
    await Bun.sleep(5)
    if (clock.sleeping > 0) return
  }
}

const pulls = (lines: string[]) => lines.filter((l) => l.includes('op=sync') && l.includes('fetched=')).length

test('advancing the clock by the interval fires exactly one tick', async () => {
  const clock = new FakeClock()
  const { a, b, logB } = await twoPods(clock)
  a.store.remember({ label: 'public:tick', content: 'one' })
  await settle(clock)
  const before = pulls(logB.lines)

  clock.advance(5 * MINUTE_MS)
  await settle(clock)
  await Bun.sleep(50)
  expect(pulls(logB.lines)).toBe(before + 1)
  expect(b.store.countPeerCopies(a.id)).toBe(1)

  // Less than an interval later: nothing.
  clock.advance(MINUTE_MS)
  await settle(clock)
  expect(pulls(logB.lines)).toBe(before + 1)
})

test('closing the pod aborts a pull in flight instead of waiting out its timeout, and records no failure', async () => {
  const clock = new FakeClock()
  let received!: () => void
  const requestArrived = new Promise<void>((resolve) => (received = resolve))
  // A peer that accepts the request and never answers.
  const hanging = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: () => {
      received()
      return new Promise<Response>(() => {})
    },
  })
  try {
    const home = tempHome()
    homes.push(home)
    const b = await startPod({ home, port: 0, host: '127.0.0.1', clock, log: memoryLogger() })
    const peer = (await startPod({ home: tempHome(), port: 0, host: '127.0.0.1', clock, log: memoryLogger() }))
    pods.push(peer)
    homes.push(peer.home.paths.root)
    b.home.peers.add({ id: peer.home.identity.podId, key: peer.home.identity.publicKey, url: `http://127.0.0.1:${hanging.port}` })
    const pulling = b.syncNow()
    await requestArrived
    await b.close()
    const [result] = await pulling
    expect(result).toMatchObject({ ok: false, error: 'stopped' })
  } finally {
    await hanging.stop(true)
  }
  // Without the abort, close() would wait for the 30 s request timeout; this test's own 15 s
  // limit (normally it takes milliseconds) is what tells the two apart.
}, 15_000)
