/**
 * The sync loop in process with an injected clock (src/sync/sync-loop.ts): the puller is a
 * loop over a real pod's store and peers; its peers are real pods or scripted servers. Advancing
 * the FakeClock by the interval fires exactly one pull; a failing peer backs off (5 s, 10 s …)
 * and recovers by itself; at most MAX_CONCURRENT_PULLS pulls are in flight; a peer whose
 * cursor does not move is a bad_response; closing aborts a pull in flight.
 */
import { expect, test } from 'bun:test'
import { FakeClock, MINUTE_MS, SECOND_MS } from '../../src/lib/clock'
import type { Pod } from '../../src/pod'
import { MAX_CONCURRENT_PULLS, PULL_BUDGET_MS } from '../../src/sync/constants'
import type { SyncLoop } from '../../src/sync/sync-loop'
import { disposablePod } from '../helpers/in-process-pod'
import { syncLoopInto } from '../helpers/sync-loop'
import { entry, servedPeer, untilAborted, waitFor, type ServedPeer } from './_served-peer'

const INTERVAL_MS = 5 * MINUTE_MS
const pod = (clock: FakeClock) => disposablePod({ clock, autoSync: false })

/** A loop pulling into `b`, started, with every result it produces collected. */
function loopFor(b: Pod, clock: FakeClock) {
  const pulling = syncLoopInto(b, clock, {
    intervalMs: () => INTERVAL_MS,
    liveWaitSeconds: 0, // the interval schedule alone (live long-polls: test/live/)
  })
  pulling.loop.start()
  return pulling
}

/** Lets the loop act on the time just set, then waits for the pulls it started. */
async function settle(loop: SyncLoop) {
  for (let i = 0; i < 3; i++) {
    await Bun.sleep(1)
    await loop.idle()
  }
}

function trust(a: Pod, b: Pod, url = a.url) {
  b.home.peers.add({ id: a.home.identity.podId, key: a.home.identity.publicKey, url })
  a.home.peers.add({ id: b.home.identity.podId, key: b.home.identity.publicKey, url: b.url })
}

test('advancing the clock by the interval fires exactly one pull', async () => {
  const clock = new FakeClock()
  await using a = await pod(clock)
  await using b = await pod(clock)
  trust(a, b)
  a.store.remember({ label: 'public:tick', content: 'one' })
  await using pulling = loopFor(b, clock)
  const { loop, results } = pulling
  await settle(loop)
  expect(results).toHaveLength(1) // a peer never pulled is due at once
  expect(b.store.countPeerCopies(a.id)).toBe(1)

  a.store.remember({ label: 'public:tock', content: 'two' })
  clock.advance(INTERVAL_MS - 1)
  await settle(loop)
  expect(results).toHaveLength(1)
  clock.advance(1)
  await settle(loop)
  expect(results).toHaveLength(2)
  expect(b.store.countPeerCopies(a.id)).toBe(2)

  clock.advance(MINUTE_MS)
  await settle(loop)
  expect(results).toHaveLength(2)
})

test('a failing peer backs off 5 s, 10 s, 20 s and recovers by itself', async () => {
  const clock = new FakeClock()
  await using a = await pod(clock)
  await using b = await pod(clock)
  // In front of A: 503 while down, else passed through (the signature covers route and body, not the host).
  let down = true
  using front = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: async (req) => {
      if (down) return new Response('down', { status: 503 })
      const url = new URL(req.url)
      return fetch(a.url + url.pathname, { method: req.method, headers: req.headers, body: await req.arrayBuffer() })
    },
  })
  trust(a, b, `http://127.0.0.1:${front.port}`)
  a.store.remember({ label: 'public:later', content: 'arrives after the outage' })
  await using pulling = loopFor(b, clock)
  const { loop, results, log } = pulling
  await settle(loop)
  expect(results.map((r) => r.error)).toEqual(['http_503'])

  for (const wait of [5 * SECOND_MS, 10 * SECOND_MS, 20 * SECOND_MS]) {
    const before = results.length
    clock.advance(wait - 1)
    await settle(loop)
    expect(results).toHaveLength(before) // not yet
    clock.advance(1)
    await settle(loop)
    expect(results).toHaveLength(before + 1)
  }
  expect(results.map((r) => r.error)).toEqual(['http_503', 'http_503', 'http_503', 'http_503'])
  expect(b.store.peerState(a.id).consecutive_failures).toBe(4)

  down = false
  clock.advance(40 * SECOND_MS)
  await settle(loop)
  expect(results.at(-1)).toMatchObject({ ok: true, stored: 1 })
  expect(b.store.peerState(a.id).consecutive_failures).toBe(0)
  expect(log.lines.filter((l) => l.includes('peer recovered'))).toHaveLength(1)
  // First failure at warn, identical repeats at debug.
  expect(log.lines.filter((l) => l.includes('err=http_503') && l.includes('level=warn'))).toHaveLength(1)

  // Back on the normal schedule: one interval.
  clock.advance(INTERVAL_MS - 1)
  await settle(loop)
  expect(results).toHaveLength(5)
  clock.advance(1)
  await settle(loop)
  expect(results).toHaveLength(6)
})

test(`at most ${MAX_CONCURRENT_PULLS} pulls are in flight; the rest start as slots free up`, async () => {
  const clock = new FakeClock()
  await using b = await pod(clock)
  await using peers = new AsyncDisposableStack()
  const served: ServedPeer[] = []
  for (let i = 0; i < MAX_CONCURRENT_PULLS + 3; i++) {
    const h = peers.use(await servedPeer(clock, { page: () => ({ cursor: '1', more: false, memories: [] }), hold: (_, signal) => untilAborted(signal) }))
    served.push(h)
    h.trust(b.home.identity.podId, b.home.identity.publicKey)
    b.home.peers.add({ id: h.id, key: h.key, url: h.url })
  }
  const asked = () => served.filter((p) => p.stats.requests > 0).length
  await using pulling = loopFor(b, clock)
  const { loop, results } = pulling
  await waitFor(() => asked() === MAX_CONCURRENT_PULLS, 5000, 'the first pulls')
  await Bun.sleep(50)
  expect(asked()).toBe(MAX_CONCURRENT_PULLS)

  // The budget ends the stalled pulls; the three that waited start then.
  clock.advance(PULL_BUDGET_MS)
  await waitFor(() => asked() === MAX_CONCURRENT_PULLS + 3, 5000, 'the waiting pulls')
  expect(results.filter((r) => r.error === 'timeout')).toHaveLength(MAX_CONCURRENT_PULLS)
  void loop
})

test('a peer that says more=true without moving its cursor is a bad_response, and nothing of that page is stored', async () => {
  const clock = new FakeClock()
  await using b = await pod(clock)
  await using h = await servedPeer(clock, { page: () => ({ cursor: '7', more: true, memories: [entry('public:loop', 'again')] }) })
  h.trust(b.home.identity.podId, b.home.identity.publicKey)
  b.home.peers.add({ id: h.id, key: h.key, url: h.url })
  await using pulling = loopFor(b, clock)
  const { loop, results } = pulling
  await settle(loop)
  expect(results).toHaveLength(1)
  expect(results[0]).toMatchObject({ ok: false, error: 'bad_response' })
  expect(results[0]!.detail).toContain('cursor')
  // The first page (from no cursor) was stored; the repeat of it was refused, not stored again.
  expect(b.store.countPeerCopies(h.id)).toBe(1)
  expect(h.stats.requests).toBe(2)
})

test('closing the pod aborts a pull in flight instead of waiting out its timeout, and records no failure', async () => {
  const clock = new FakeClock()
  let received!: () => void
  const requestArrived = new Promise<void>((resolve) => (received = resolve))
  // A peer that accepts the request and never answers.
  using hanging = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: () => {
      received()
      return new Promise<Response>(() => {})
    },
  })
  await using b = await disposablePod({ clock })
  await using peer = await pod(clock)
  b.home.peers.add({ id: peer.home.identity.podId, key: peer.home.identity.publicKey, url: `http://127.0.0.1:${hanging.port}` })
  const pulling = b.syncNow()
  await requestArrived
  await b.close()
  const [result] = await pulling
  expect(result).toMatchObject({ ok: false, error: 'stopped' })
  // Without the abort, close() would wait for the 30 s request timeout; this test's own 15 s
  // limit (normally it takes milliseconds) is what tells the two apart.
}, 15_000)
