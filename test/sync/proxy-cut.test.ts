/**
 * A proxy that cuts held long-polls (src/sync/proxy-cut.ts): the rules alone, then a real pod A
 * on a FakeClock pulled live by B's sync loop through a fetch that plays a proxy with an idle
 * limit on the same clock (answers 504 once the upstream kept silent that long, and gives up on
 * the upstream). B retries one cut live at once, lowers its wait under the limit at the second,
 * stays `ready` (no failure recorded) and keeps receiving writes live; cuts that do not agree
 * are ordinary failures.
 */
import { afterEach, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import type { PodId } from '../../src/identity'
import { FakeClock, SECOND_MS } from '../../src/lib/clock'
import { memoryLogger } from '../../src/lib/log'
import { startPod, type Pod } from '../../src/pod'
import { cutsAgree, isProxyCut, proxyCutMessage, waitUnder } from '../../src/sync/proxy-cut'
import type { SyncLoop } from '../../src/sync/sync-loop'
import { tempHome } from '../helpers/pod-process'
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
})

let pods: Pod[] = []
let homes: string[] = []
let loops: SyncLoop[] = []
afterEach(async () => {
  for (const l of loops) await l.close()
  for (const p of pods) await p.close()
  for (const h of homes) rmSync(h, { recursive: true, force: true })
  pods = []
  homes = []
  loops = []
})

async function pod(clock: FakeClock): Promise<Pod> {
  const home = tempHome('mzm-cut-')
  homes.push(home)
  const p = await startPod({ home, port: 0, host: '127.0.0.1', clock, log: memoryLogger(), autoSync: false })
  pods.push(p)
  return p
}

/** A proxy with an idle limit on the injected clock: 504 once the upstream kept silent `limit.ms`. */
function cuttingProxy(clock: FakeClock, limit: { ms: number }) {
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
      return new Response('{"error":"gateway_timeout"}', { status: 504 })
    }
    answered.abort()
    return first as Response
  }) as typeof fetch
  return { fetch: proxied, stats }
}

async function setup(limit: { ms: number }) {
  const clock = new FakeClock()
  const a = await pod(clock)
  const b = await pod(clock)
  a.home.peers.add({ id: b.id as PodId, key: b.home.identity.publicKey, url: b.url, sync: false })
  b.home.peers.add({ id: a.id as PodId, key: a.home.identity.publicKey, url: a.url })
  const proxy = cuttingProxy(clock, limit)
  const { loop, results, log } = syncLoopInto(b, clock, { fetch: proxy.fetch, liveWaitSeconds: 50 })
  loops.push(loop)
  loop.start()
  // The first pull is a normal one; the second, a long-poll held at A.
  await until(() => proxy.stats.sent === 2 && a.heldPolls() === 1, "B's long-poll held at A")
  return { clock, a, b, log, results, stats: proxy.stats }
}

test('a proxy that cuts held requests at 30 s: the second cut lowers the wait to 24 s, the peer stays ready and writes still arrive live', async () => {
  const { clock, a, b, log, results, stats } = await setup({ ms: 30 * SECOND_MS })
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
  const { clock, b, a, results, stats, log } = await setup(limit)
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
