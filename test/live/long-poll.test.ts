/**
 * POST /peer/sync with `wait` on a real pod whose clock is a FakeClock: an empty delta is held
 * until its wait runs out on the injected clock, a change the caller may receive answers it at
 * once, shutdown answers every held request at once, and a relationship removed while held is
 * served nothing. Then the puller: a live peer whose long-poll fails falls back to backoff and
 * the interval tick, and goes live again once it recovers.
 */
import { afterEach, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import { openHome, type Identity, type PodId } from '../../src/identity'
import { FakeClock, MINUTE_MS, SECOND_MS } from '../../src/lib/clock'
import { memoryLogger } from '../../src/lib/log'
import { startPod, type Pod } from '../../src/pod'
import { pullPage } from '../../src/sync/peer-client'
import { tempHome } from '../helpers/pod-process'
import { syncLoopInto } from '../helpers/sync-loop'
import { until } from './_live-pods'

let pods: Pod[] = []
let homes: string[] = []
afterEach(async () => {
  for (const p of pods) await p.close()
  for (const h of homes) rmSync(h, { recursive: true, force: true })
  pods = []
  homes = []
})

async function podA(clock: FakeClock, home = tempHome('mzm-lp-'), port = 0): Promise<Pod> {
  if (!homes.includes(home)) homes.push(home)
  const p = await startPod({ home, port, host: '127.0.0.1', clock, log: memoryLogger(), autoSync: false })
  pods.push(p)
  return p
}

/** B: only an identity that A trusts (the test plays B's puller by hand). */
async function callerOf(a: Pod): Promise<Identity> {
  const home = tempHome('mzm-lp-b-')
  homes.push(home)
  const b = (await openHome(home, { log: memoryLogger() })).identity
  a.home.peers.add({ id: b.podId, key: b.publicKey, url: '', scope: 'public:*' })
  return b
}

async function longPoll(a: Pod, b: Identity, clock: FakeClock, since: string | null, wait: number) {
  return pullPage({
    baseUrl: a.url,
    pairKey: await b.pairKey(a.id as PodId, a.home.identity.publicKey),
    selfId: b.podId,
    peerId: a.id as PodId,
    since,
    scope: ['public:*'],
    limit: 100,
    wait,
    nowMs: clock.now(),
  })
}

/** 'held' while `p` has not settled after the I/O in flight ran. */
async function state<T>(p: Promise<T>): Promise<T | 'held'> {
  return Promise.race([p, new Promise<'held'>((r) => setTimeout(() => r('held'), 20))])
}

test('an empty delta is held until `wait` runs out on the injected clock, then answered empty', async () => {
  const clock = new FakeClock()
  const a = await podA(clock)
  const b = await callerOf(a)
  a.store.remember({ label: 'public:old', content: 'x' })
  const first = await longPoll(a, b, clock, null, 30) // not empty: answered at once
  expect(first.memories).toHaveLength(1)
  const held = longPoll(a, b, clock, first.cursor, 30)
  await until(() => a.heldPolls() === 1, 'the request held')
  clock.advance(29 * SECOND_MS)
  expect(await state(held)).toBe('held')
  clock.advance(SECOND_MS)
  const page = await held
  expect(page).toMatchObject({ cursor: first.cursor, more: false, memories: [] })
  expect(a.heldPolls()).toBe(0)
})

test('a held request is answered as soon as a change it may receive commits; a private one does not answer it', async () => {
  const clock = new FakeClock()
  const a = await podA(clock)
  const b = await callerOf(a)
  const held = longPoll(a, b, clock, null, 50)
  await until(() => a.heldPolls() === 1, 'the request held')
  a.store.remember({ label: 'secret:x', content: 'private' })
  expect(await state(held)).toBe('held')
  const { id } = a.store.remember({ label: 'public:now', content: 'hello' })
  const page = await held
  expect(page.memories).toMatchObject([{ id, label: 'public:now', content: 'hello' }])
})

test('shutdown answers every held request at once', async () => {
  const clock = new FakeClock()
  const a = await podA(clock)
  const b = await callerOf(a)
  const held = [longPoll(a, b, clock, null, 50), longPoll(a, b, clock, null, 50)]
  await until(() => a.heldPolls() === 2, 'both requests held')
  pods = []
  await a.close()
  const pages = await Promise.all(held)
  expect(pages.map((p) => p.memories.length)).toEqual([0, 0])
})

test('a peer removed while its request is held is served nothing', async () => {
  const clock = new FakeClock()
  const a = await podA(clock)
  const b = await callerOf(a)
  const held = longPoll(a, b, clock, null, 50)
  await until(() => a.heldPolls() === 1, 'the request held')
  a.home.peers.remove(b.podId)
  a.store.remember({ label: 'public:after-removal', content: 'not for B' })
  await expect(held).rejects.toMatchObject({ code: 'unauthorized' })
})

test('fallback: a live peer that goes away backs off, is pulled on the interval, and goes live again when it is back', async () => {
  const clock = new FakeClock()
  const homeA = tempHome('mzm-lp-')
  let a = await podA(clock, homeA)
  const port = Number(new URL(a.url).port)
  const bHome = tempHome('mzm-lp-b-')
  homes.push(bHome)
  const bLog = memoryLogger()
  const b = await startPod({ home: bHome, port: 0, host: '127.0.0.1', clock, log: bLog, autoSync: false })
  pods.push(b)
  a.home.peers.add({ id: b.id as PodId, key: b.home.identity.publicKey, url: b.url, sync: false })
  b.home.peers.add({ id: a.id as PodId, key: a.home.identity.publicKey, url: a.url })
  const { loop, results } = syncLoopInto(b, clock, { log: bLog })
  try {
    loop.start()
    await until(() => a.heldPolls() === 1, "B's long-poll held at A (after a first normal pull)")
    expect(results.filter((r) => r.ok)).toHaveLength(1)

    // A goes away: the held request is answered empty at once, without being held → B backs off
    // instead of asking again at once; then its pulls fail and back off further.
    pods = pods.filter((p) => p !== a)
    await a.close()
    await until(() => results.length === 2, 'the answer of the closing pod')
    await Bun.sleep(30)
    expect(results.length).toBe(2) // no busy loop against a pod that does not hold
    clock.advance(5 * SECOND_MS)
    await until(() => results.length === 3, 'the next try after 5 s')
    expect(results[2]).toMatchObject({ ok: false, error: 'request_failed' })
    clock.advance(10 * SECOND_MS)
    await until(() => results.length === 4, 'the try after 10 s more')
    expect(results[3]).toMatchObject({ ok: false })

    // A is back on the same port: the next try (backoff, capped by the interval) succeeds, and
    // the one after it is a long-poll held at A again.
    a = await podA(clock, homeA, port)
    a.store.remember({ label: 'public:while-away', content: 'catch up' })
    clock.advance(5 * MINUTE_MS)
    await until(() => results.slice(4).some((r) => r.ok && r.stored === 1), 'the recovering pull')
    expect(b.store.countPeerCopies(a.id)).toBe(1)
    await until(() => a.heldPolls() === 1, 'live again')
  } finally {
    await loop.close()
  }
})

test('a caller that goes away releases its held request (bounded: nothing waits for a gone peer)', async () => {
  const clock = new FakeClock()
  const a = await podA(clock)
  const b = await callerOf(a)
  const ac = new AbortController()
  const pairKey = await b.pairKey(a.id as PodId, a.home.identity.publicKey)
  const held = pullPage({
    baseUrl: a.url,
    pairKey,
    selfId: b.podId,
    peerId: a.id as PodId,
    since: null,
    scope: ['public:*'],
    limit: 10,
    wait: 50,
    nowMs: clock.now(),
    signal: ac.signal,
  })
  await until(() => a.heldPolls() === 1, 'the request held')
  ac.abort()
  await expect(held).rejects.toBeDefined()
  await until(() => a.heldPolls() === 0, 'the slot released when the connection closed')
})
