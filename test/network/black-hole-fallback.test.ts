/**
 * URL fallback on a real black hole: the peer advertises two URLs; every packet on the path to
 * the first is dropped (nftables `drop` on that link, both directions, no reset or ICMP sent
 * back; netem would do too where the kernel has sch_netem), the second works. The
 * pull gives up on the first after the per-attempt connect timeout, succeeds on the second, and
 * tries the second first from then on. The puller's connect timeout is 1 s here
 * (MAZEMAKER_CONNECT_TIMEOUT_MS) rather than the default 5 s: the black hole still costs exactly
 * one timeout, and the test does not wait out five seconds of it.
 *
 *   alca 10.50.0.1 ══ (all packets dropped) ══ 10.50.0.2 borm   "borm-wan.test"
 *   alca 10.51.0.1 ─────────────────────────── 10.51.0.2 borm   "borm-lan.test"
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { cleanup, type PodProcess } from '../helpers/pod-process'
import { REQUEST_TIMEOUT_MS } from '../../src/sync/constants'
import { createTopology, type Topology } from './netns'
import { copyOf, hostPod, paste, remember, syncNow } from './hosts'

let topo: Topology | null = null
const pods: PodProcess[] = []
const ns = { a: '', b: '' }
const WAN = 'http://borm-wan.test:8765'
const LAN = 'http://borm-lan.test:8765'
/** The puller's per-URL connect timeout, set through its environment. */
const CONNECT_TIMEOUT_MS = 1000

beforeAll(() => {
  topo = createTopology()
  ns.a = topo.ns('falca')
  ns.b = topo.ns('fborm')
  topo.link(ns.a, '10.50.0.1/24', ns.b, '10.50.0.2/24') // mzv0: the black hole
  topo.link(ns.a, '10.51.0.1/24', ns.b, '10.51.0.2/24') // mzv1: works
  const rules = `table inet mzm_blackhole {
  chain input { type filter hook input priority 0; iifname "mzv0" drop; }
  chain output { type filter hook output priority 0; oifname "mzv0" drop; }
}
`
  for (const n of [ns.a, ns.b]) {
    const r = Bun.spawnSync([...topo.wrap(n), 'nft', '-f', '-'], { stdin: Buffer.from(rules), stderr: 'pipe' })
    if (r.exitCode !== 0) throw new Error(`nft failed in ${n} (scripts/ensure-caddy.sh installs nftables): ${r.stderr.toString()}`)
  }
  topo.hosts(ns.a, { 'borm-wan.test': '10.50.0.2', 'borm-lan.test': '10.51.0.2' })
})

afterAll(async () => {
  await cleanup(pods)
  topo?.destroy()
})

test('first URL black-holed, second works: the pull succeeds after one connect timeout, and the second is tried first next time', async () => {
  const t = topo!

  const a = await hostPod({
    netns: ns.a,
    name: 'alca',
    listen: '10.51.0.1:8765',
    advertise: ['http://10.51.0.1:8765'],
    env: { MAZEMAKER_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS) },
  })
  pods.push(a)
  const b = await hostPod({ netns: ns.b, name: 'borm', listen: '0.0.0.0:8765', advertise: [WAN, LAN] })
  pods.push(b)
  // The first URL really is a black hole (a timeout, not a refusal), the second answers.
  expect(t.exec(ns.a, ['curl', '-sS', '--max-time', '1', `${WAN}/healthz`]).code).toBe(28)
  expect(t.exec(ns.a, ['curl', '-sS', '--max-time', '2', `${LAN}/healthz`]).code).toBe(0)
  await remember(b, 'public:from-borm', 'borm is reachable one way only')
  const peerB = await paste(a, b)
  expect(peerB.url).toEqual([WAN, LAN])
  await paste(b, a)

  const t0 = performance.now()
  const first = await syncNow(a, peerB.id)
  const ms = performance.now() - t0
  expect(first).toMatchObject({ ok: true, stored: 1 })
  expect(await copyOf(a, peerB.id, 'public:from-borm')).toBe('borm is reachable one way only')
  // Without a connect timeout the black hole would hold the attempt for the whole request
  // timeout (30 s); with it, the first URL costs one connect timeout and no more.
  expect(ms).toBeGreaterThanOrEqual(CONNECT_TIMEOUT_MS - 100)
  expect(ms).toBeLessThan(REQUEST_TIMEOUT_MS)
  expect(a.logs()).toContain('err=url_fallback')
  console.log(`url fallback: first pull through a black-holed first URL took ${ms.toFixed(0)} ms (connect timeout ${CONNECT_TIMEOUT_MS} ms)`)

  // The URL that verified is tried first now: the next pull does not wait on the black hole
  // (it answers at the first URL it tries, which the puller logs as that URL answering again).
  await remember(b, 'public:second', 'and again')
  expect(a.logs()).not.toContain('the first URL tried answers again')
  expect(await syncNow(a, peerB.id)).toMatchObject({ ok: true, stored: 1 })
  expect(a.logs()).toContain('the first URL tried answers again')
}, 60_000)
