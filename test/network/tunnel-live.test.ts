/**
 * Live pulls through the tunnel (tunnel-topology.ts), with an edge that gives up on an upstream
 * silent for 3 s (Caddy `response_header_timeout`, answering 504) the way Cloudflare gives up
 * after 100 s (524), scaled down so several limits pass in a few seconds.
 *
 * - A puller whose long-poll wait (2 s, MAZEMAKER_LIVE_WAIT) is under the limit: over more than
 *   three limits its held requests are all answered 200 by the edge, the peer stays `ready`, and
 *   a write at home after all that holding reaches it live (no sync call), sealed.
 * - A puller whose wait (6 s) is over the limit, as an operator can misconfigure: the edge cuts
 *   its first two held requests (504); the puller then lowers its wait under the limit and says
 *   which timeout to raise, stays `ready`, and a write at home still reaches it live.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import type { PodProcess } from '../helpers/pod-process'
import { copyOf, remember } from './hosts'
import { startTunnel, type Tunnel } from './tunnel-topology'

const EDGE_IDLE_LIMIT_MS = 3000

let tunnel: Tunnel

beforeAll(async () => {
  tunnel = await startTunnel({ tag: 'tl', edgeIdleLimit: `${EDGE_IDLE_LIMIT_MS}ms` })
}, 60_000)

afterAll(async () => {
  await tunnel?.stop()
})

/** Polls `cond` every 50 ms until it holds (events, not sleeps); fails with `what` after `ms`. */
async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(50)
  }
}

/** The body log's answers to /peer/sync: status and how long the pod took. */
function relayed(): { status: number; ms: number }[] {
  let text = ''
  try {
    text = readFileSync(tunnel.bodyLog, 'latin1')
  } catch {
    return [] // nothing relayed yet
  }
  return [...text.matchAll(/^--- response (\d+) \/peer\/sync (\d+) ms/gm)].map((m) => ({ status: Number(m[1]), ms: Number(m[2]) }))
}

async function peerView(pod: PodProcess, id: string) {
  const res = await pod.api('GET', '/peer/peers')
  return (res.body.peers as { id: string; status: string; last_error: string | null }[]).find((p) => p.id === id)!
}

function expectSealed(...secrets: string[]): void {
  const logged = readFileSync(tunnel.bodyLog)
  for (const s of secrets) expect(logged.includes(Buffer.from(s))).toBe(false)
}

test('a wait under the edge idle limit: held requests are answered 200 through the tunnel over several limits, and a later write arrives live, sealed', async () => {
  const puller = await tunnel.puller('fits', 8765, { MAZEMAKER_LIVE_WAIT: '2' })
  const homeId = await tunnel.pair(puller)
  // Five held answers in a row: 10 s of holding, more than three edge limits.
  await until(() => relayed().filter((r) => r.ms >= 1500).length >= 5, 'five held answers')
  expect(relayed().every((r) => r.status === 200)).toBe(true)
  expect(tunnel.edgeStatuses().every((s) => s === 200)).toBe(true) // the edge never gave up (no 502/504)
  expect(await peerView(puller, homeId)).toMatchObject({ status: 'ready', last_error: null })

  await remember(tunnel.home, 'public:tide-table', 'high water at 06:42 by the north mole')
  await until(async () => (await copyOf(puller, homeId, 'public:tide-table')) !== null, 'the write at home copied to the puller')
  expect(await copyOf(puller, homeId, 'public:tide-table')).toBe('high water at 06:42 by the north mole')
  expect(tunnel.edgeStatuses().every((s) => s === 200)).toBe(true)
  expectSealed('tide-table', 'north mole', '06:42')
  expect(puller.logs()).not.toContain('err=')

  // Stop this puller's pulls, so the next test's edge log is its own.
  expect((await puller.api('PATCH', `/peer/peers/${homeId}`, { sync: false })).status).toBe(200)
}, 60_000)

test('a wait over the edge idle limit: two held requests are cut (504), then the puller waits under the limit, says what to fix, stays ready and still gets writes live', async () => {
  const before = tunnel.edgeStatuses().length
  const puller = await tunnel.puller('toolong', 8766, { MAZEMAKER_LIVE_WAIT: '6' })
  const homeId = await tunnel.pair(puller)
  await until(() => puller.logs().includes('err=proxy_cut'), 'the puller noticing the cuts')
  const warning = puller
    .logs()
    .split('\n')
    .find((l) => l.includes('err=proxy_cut'))!
  expect(warning).toContain('level=warn')
  expect(warning).toContain('cut held requests after about 3 s (answered 504, twice)')
  expect(warning).toContain('now wait 2 s instead of 6 s')
  expect(warning).toContain("raise that proxy's read/idle timeout to 16 s or more")
  expect(warning).toContain('MAZEMAKER_LIVE_WAIT below 3')
  const cutAt = tunnel.edgeStatuses().length

  // A held answer at the lowered wait, 200; the peer never showed an error.
  await until(() => tunnel.edgeStatuses().length >= cutAt + 1, 'a long-poll at the lowered wait')
  const mine = tunnel.edgeStatuses().slice(before)
  expect(mine.filter((s) => s === 504)).toHaveLength(2)
  expect(mine.slice(mine.lastIndexOf(504) + 1).every((s) => s === 200)).toBe(true)
  expect(await peerView(puller, homeId)).toMatchObject({ status: 'ready', last_error: null })

  await remember(tunnel.home, 'public:ferry-note', 'the 7:10 ferry leaves from berth 3')
  await until(async () => (await copyOf(puller, homeId, 'public:ferry-note')) !== null, 'the write at home copied to the puller')
  expect(
    tunnel
      .edgeStatuses()
      .slice(cutAt)
      .every((s) => s === 200),
  ).toBe(true)
  expectSealed('ferry-note', 'berth 3', '7:10 ferry')
}, 60_000)
