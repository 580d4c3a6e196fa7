/**
 * A proxy that cuts held long-polls (src/sync/proxy-cut.ts): the rules alone, then a real pod A
 * on a FakeClock pulled live by B's sync loop through a fetch that plays a proxy with an idle
 * limit on the same clock (answers 504 once the upstream kept silent that long, and gives up on
 * the upstream). B retries one cut live at once, lowers its wait under the limit at the second,
 * stays `ready` (no failure recorded) and keeps receiving writes live; cuts that do not agree
 * are ordinary failures.
 */
import { expect, test } from 'bun:test'
import type { PodId } from '../../src/identity'
import { FakeClock, SECOND_MS } from '../../src/lib/clock'
import { disposablePod } from '../helpers/in-process-pod'
import { PROXY_REPROBE_MS } from '../../src/sync/constants'
import { cutsAgree, isProxyCut, lowerWait, probeDue, probeHeld, proxyCutMessage, waitUnder } from '../../src/sync/proxy-cut'
import { syncLoopInto } from '../helpers/sync-loop'
import { until } from '../live/_live-pods'

test('a cut is a gateway error or a dropped connection after a real hold and before the wait', () => {
  expect(isProxyCut('http_504', 30_000, 50)).toBe(true)
  expect(isProxyCut('http_524', 30_000, 50)).toBe(true)
  expect(isProxyCut('request_failed', 30_000, 50)).toBe(true)
  expect(isProxyCut('http_504', 200, 50)).toBe(false) // not held: the upstream is down
  expect(isProxyCut('http_504', 50_000, 50)).toBe(false) // answered at its wait: not cut
  expect(isProxyCut('unauthorized', 30_000, 50)).toBe(false)
  expect(isProxyCut('timeout', 30_000, 50)).toBe(false)
  expect(cutsAgree(30_000, 30_400)).toBe(true)
  expect(cutsAgree(3_000, 3_900)).toBe(true)
  expect(cutsAgree(30_000, 10_000)).toBe(false)
  expect(waitUnder(30_000)).toBe(24)
  expect(waitUnder(3_000)).toBe(2)
  expect(waitUnder(2_000)).toBe(0) // a 1 s hold is no hold
  const msg = proxyCutMessage({ url: 'https://x/peer/sync', code: 'http_504', cutMs: 30_000, waitS: 50, nowS: 24 })
  expect(msg).toContain('after about 30 s (answered 504, twice)')
  expect(msg).toContain('now wait 24 s instead of 50 s')
  expect(msg).toContain('timeout to 60 s or more')
  expect(msg).toContain('MAZEMAKER_LIVE_WAIT below 30')
  expect(msg).toContain('tries the full wait again every hour')
  const low = lowerWait(30_000, 0)
  expect(low).toEqual({ waitS: 24, cutMs: 30_000, probeAt: PROXY_REPROBE_MS })
  expect(probeDue(low, PROXY_REPROBE_MS - 1)).toBe(false)
  expect(probeDue(low, PROXY_REPROBE_MS)).toBe(true)
  expect(probeHeld(low, 5_000, 50)).toBe(false) // a change after 5 s says nothing about a 30 s limit
  expect(probeHeld(low, 31_000, 50)).toBe(true)
})

const pod = (clock: FakeClock) => disposablePod({ clock, autoSync: false })

/**
 * A proxy with an idle limit on the injected clock: 504 once the upstream kept silent `limit.ms`.
 * It answers the cut only once the upstream has released the request (`held()` down to 0), so
 * the puller's next request cannot be mistaken for the cut one still held at A.
 */
function cuttingProxy(clock: FakeClock, limit: { ms: number }, held: () => number) {
  const stats = { sent: 0 }
  const proxied = (async (input: RequestInfo | URL, init?: RequestInit) => {
    stats.sent++
    const upstream = new AbortController()
    const answered = new AbortController()
    const signal = init?.signal ? AbortSignal.any([init.signal, upstream.signal]) : upstream.signal
    const answer = fetch(input, { ...init, signal })
    const cut = clock.sleep(limit.ms, answered.signal).then(() => 'cut' as const)
    const first = await Promise.race([answer, cut])
    if (first === 'cut' && !answered.signal.aborted) {
      upstream.abort() // the upstream connection goes, so A releases its held request
      answer.catch(() => undefined)
      await until(() => held() === 0, 'the cut request released at A')
      return new Response('{"error":"gateway_timeout"}', { status: 504 })
    }
    answered.abort()
    return first as Response
  }) as typeof fetch
  return { fetch: proxied, stats }
}

async function setup(limit: { ms: number }) {
  const clock = new FakeClock()
  // Everything the scene made is closed with it: the loop first, then the pods.
  const made = new AsyncDisposableStack()
  const a = made.use(await pod(clock))
  const b = made.use(await pod(clock))
  a.home.peers.add({ id: b.id as PodId, key: b.home.identity.publicKey, url: b.url, sync: false })
  b.home.peers.add({ id: a.id as PodId, key: a.home.identity.publicKey, url: a.url })
  const proxy = cuttingProxy(clock, limit, () => a.heldPolls())
  const { loop, results, log } = made.use(syncLoopInto(b, clock, { fetch: proxy.fetch, liveWaitSeconds: 50 }))
  loop.start()
  // The first pull is a normal one; the second, a long-poll held at A.
  await until(() => proxy.stats.sent === 2 && a.heldPolls() === 1, "B's long-poll held at A")
  return { clock, a, b, log, results, stats: proxy.stats, [Symbol.asyncDispose]: () => made.disposeAsync() }
}

test('a proxy that cuts held requests at 30 s: the second cut lowers the wait to 24 s, the peer stays ready and writes still arrive live', async () => {
  await using scene = await setup({ ms: 30 * SECOND_MS })
  const { clock, a, b, log, results, stats } = scene
  clock.advance(30 * SECOND_MS)
  await until(() => stats.sent === 3 && a.heldPolls() === 1, 'the cut request asked again at once, held')
  expect(results[1]).toMatchObject({ ok: false, error: 'proxy_cut' })
  expect(b.store.peerState(a.id).consecutive_failures).toBe(0)

  clock.advance(30 * SECOND_MS)
  await until(() => stats.sent === 4 && a.heldPolls() === 1, 'held again after the second cut')
  const warn = log.lines.find((l) => l.includes('err=proxy_cut'))
  expect(warn).toContain('level=warn')
  expect(warn).toContain('now wait 24 s instead of 50 s')

  // 24 s later A answers empty: under the proxy's limit, so no cut; the next long-poll follows.
  clock.advance(24 * SECOND_MS)
  await until(() => stats.sent === 5 && a.heldPolls() === 1, 'the next long-poll')
  expect(results.at(-1)).toMatchObject({ ok: true, fetched: 0 })
  expect(b.store.peerState(a.id)).toMatchObject({ consecutive_failures: 0, last_error: null })

  // Held 20 s (past nothing, under the limit), then a write at A: it reaches B without a sync call.
  clock.advance(20 * SECOND_MS)
  a.store.remember({ label: 'public:through-the-proxy', content: 'arrives live' })
  await until(() => b.store.countPeerCopies(a.id) === 1, 'the write at A copied to B')
  expect(results.at(-1)).toMatchObject({ ok: true, stored: 1 })
})

test('cuts that do not agree are ordinary failures (backoff, peer in error): a peer going away is not taken for a proxy', async () => {
  const limit = { ms: 30 * SECOND_MS }
  await using scene = await setup(limit)
  const { clock, b, a, results, stats, log } = scene
  limit.ms = 10 * SECOND_MS // requests from now on are cut much sooner: not the same limit
  clock.advance(30 * SECOND_MS)
  await until(() => stats.sent === 3 && a.heldPolls() === 1, 'the first cut asked again at once')
  clock.advance(10 * SECOND_MS)
  await until(() => results.length === 3, 'the second cut')
  expect(results[2]).toMatchObject({ ok: false, error: 'http_504' })
  expect(b.store.peerState(a.id).consecutive_failures).toBe(1)
  expect(log.lines.some((l) => l.includes('err=proxy_cut'))).toBe(false)
  await Bun.sleep(20)
  expect(stats.sent).toBe(3) // backing off, not asking again at once
})

/** Lowers B's wait to 24 s behind a proxy cutting at 30 s; returns when that happened, with the next long-poll held. */
async function lowered(limit: { ms: number }) {
  const s = await setup(limit)
  s.clock.advance(30 * SECOND_MS)
  await until(() => s.stats.sent === 3 && s.a.heldPolls() === 1, 'the first cut asked again at once')
  s.clock.advance(30 * SECOND_MS)
  await until(() => s.stats.sent === 4 && s.a.heldPolls() === 1, 'held again under the lowered wait')
  return { ...s, loweredAt: s.clock.now() }
}

/** Lets `ms` pass one 24 s long-poll at a time (each answered empty, the next one held). */
async function longPollsFor(s: Awaited<ReturnType<typeof lowered>>, ms: number): Promise<void> {
  const end = s.clock.now() + ms
  while (s.clock.now() < end) {
    const sent = s.stats.sent
    s.clock.advance(24 * SECOND_MS)
    await until(() => s.stats.sent === sent + 1 && s.a.heldPolls() === 1, 'the next 24 s long-poll held')
  }
}

test('proxy fixed: an hour after the wait was lowered, one long-poll tries the full 50 s, is answered, and the full wait holds from then on', async () => {
  const limit = { ms: 30 * SECOND_MS }
  await using s = await lowered(limit)
  limit.ms = Infinity // the operator raised the proxy's timeout
  await longPollsFor(s, PROXY_REPROBE_MS - (s.clock.now() - s.loweredAt))
  // The long-poll now held is the probe: past 24 s, and past the old 30 s limit, it is still held.
  const sent = s.stats.sent
  s.clock.advance(24 * SECOND_MS)
  await Bun.sleep(20)
  expect(s.stats.sent).toBe(sent)
  s.clock.advance(26 * SECOND_MS)
  await until(() => s.stats.sent === sent + 1 && s.a.heldPolls() === 1, 'the probe answered at 50 s, the next long-poll held')
  expect(s.results.at(-1)).toMatchObject({ ok: true, fetched: 0 })
  const info = s.log.lines.find((l) => l.includes('answered a full'))
  expect(info).toContain('level=info')
  expect(info).toContain('answered a full 50 s hold')
  expect(info).toContain('long-polls wait 50 s again')
  // And it holds: the next long-poll waits the full 50 s too.
  s.clock.advance(49 * SECOND_MS)
  await Bun.sleep(20)
  expect(s.stats.sent).toBe(sent + 1)
  s.clock.advance(SECOND_MS)
  await until(() => s.stats.sent === sent + 2 && s.a.heldPolls() === 1, 'the next full-wait long-poll')
  expect(s.log.lines.filter((l) => l.includes('err=proxy_cut')).length).toBe(1)
  expect(s.b.store.peerState(s.a.id)).toMatchObject({ consecutive_failures: 0, last_error: null })
})

test('proxy still cutting: the hourly probe is cut again, the wait stays lowered without a new warning, and the next probe is an hour later', async () => {
  const limit = { ms: 30 * SECOND_MS }
  await using s = await lowered(limit)
  await longPollsFor(s, PROXY_REPROBE_MS - (s.clock.now() - s.loweredAt))
  // The probe: held past 24 s, cut at the proxy's 30 s, then straight back to a 24 s long-poll.
  let sent = s.stats.sent
  s.clock.advance(24 * SECOND_MS)
  await Bun.sleep(20)
  expect(s.stats.sent).toBe(sent)
  s.clock.advance(6 * SECOND_MS)
  await until(() => s.stats.sent === sent + 1 && s.a.heldPolls() === 1, 'the cut probe followed by a long-poll')
  expect(s.results.at(-1)).toMatchObject({ ok: false, error: 'proxy_cut' })
  const probedAt = s.clock.now()
  s.clock.advance(24 * SECOND_MS)
  await until(() => s.stats.sent === sent + 2 && s.a.heldPolls() === 1, 'lowered again: answered at 24 s')
  expect(s.results.at(-1)).toMatchObject({ ok: true, fetched: 0 })
  expect(s.log.lines.filter((l) => l.includes('err=proxy_cut')).length).toBe(1) // the first warning only
  expect(s.log.lines.some((l) => l.includes('level=warn') && !l.includes('err=proxy_cut'))).toBe(false)
  expect(s.log.lines.some((l) => l.includes('answered a full'))).toBe(false)
  expect(s.b.store.peerState(s.a.id)).toMatchObject({ consecutive_failures: 0, last_error: null })

  // An hour after that probe, the next one.
  await longPollsFor(s, PROXY_REPROBE_MS - (s.clock.now() - probedAt))
  sent = s.stats.sent
  s.clock.advance(24 * SECOND_MS)
  await Bun.sleep(20)
  expect(s.stats.sent).toBe(sent)
  s.clock.advance(6 * SECOND_MS)
  await until(() => s.stats.sent === sent + 1 && s.a.heldPolls() === 1, 'the second probe cut, a 24 s long-poll after it')
  expect(s.results.at(-1)).toMatchObject({ ok: false, error: 'proxy_cut' })
  expect(s.log.lines.filter((l) => l.includes('level=warn')).length).toBe(1)
})
