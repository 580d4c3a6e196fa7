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
