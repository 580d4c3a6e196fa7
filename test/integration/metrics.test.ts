/** GET /metrics: admin-only Prometheus text whose counters move after a sync. */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { cleanup, spawnPod, type PodProcess } from '../helpers/pod-process'
import { identityOf, pair, remember, syncNow } from '../helpers/federation'

let a: PodProcess, b: PodProcess
beforeAll(async () => {
  ;[a, b] = await Promise.all([spawnPod(), spawnPod()])
  await pair(a, b)
})
afterAll(() => cleanup([a, b]))

const SAMPLE = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? -?(\d+(\.\d+)?(e[+-]?\d+)?|\+Inf|NaN)$/

/** Parses Prometheus text exposition; throws on any malformed line. */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue
    if (!SAMPLE.test(line)) throw new Error(`not Prometheus text: ${line}`)
    const i = line.lastIndexOf(' ')
    out.set(line.slice(0, i), Number(line.slice(i + 1)))
  }
  return out
}

async function scrape(pod: PodProcess) {
  const res = await fetch(pod.url + '/metrics', { headers: { authorization: `Bearer ${pod.token()}` } })
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toStartWith('text/plain; version=0.0.4')
  return parseMetrics(await res.text())
}

test('needs the admin token', async () => {
  expect((await fetch(a.url + '/metrics')).status).toBe(401)
})

test('parses, and counters move after a sync', async () => {
  const idA = (await identityOf(a)).pod_id
  const idB = (await identityOf(b)).pod_id
  await remember(a, 'public:m1', 'one')
  await remember(a, 'public:m2', 'two')
  const before = await scrape(b)
  expect(before.get(`mazemaker_peer_memories_pulled_total{peer="${idA}"}`) ?? 0).toBe(0)
  expect((await syncNow(b))[0]!.ok).toBe(true)
  const after = await scrape(b)
  expect(after.get(`mazemaker_peer_memories_pulled_total{peer="${idA}"}`)).toBe(2)
  expect(after.get(`mazemaker_peer_pulls_total{peer="${idA}",outcome="ok"}`)).toBe(1)
  expect(after.get(`mazemaker_peer_consecutive_failures{peer="${idA}"}`)).toBe(0)
  expect(
    after.get(`mazemaker_peer_last_success_timestamp_seconds{peer="${idA}",name="${(await identityOf(a)).handshake_url.split('name=')[1]}"}`),
  ).toBeGreaterThan(0)
  expect(after.get('mazemaker_memories{kind="peer_copy"}')).toBe(2)
  const served = await scrape(a)
  expect(served.get(`mazemaker_peer_memories_served_total{peer="${idB}"}`)).toBe(2)
  expect([...served.keys()].some((k) => k.startsWith('mazemaker_http_request_duration_seconds_bucket{route="/peer/sync"'))).toBe(true)
})

test('per-peer gauges: failures in a row and copies held, each on its own peer', async () => {
  const c = await spawnPod()
  try {
    await pair(b, c)
    const [idA, idC] = [(await identityOf(a)).pod_id, (await identityOf(c)).pod_id]
    await remember(a, 'public:m3', 'three')
    await c.stop() // its pulls fail from now on
    const results = await syncNow(b)
    expect(results.some((r) => !r.ok)).toBe(true)
    const m = await scrape(b)
    expect(m.get(`mazemaker_peer_consecutive_failures{peer="${idC}"}`)).toBe(1)
    expect(m.get(`mazemaker_peer_consecutive_failures{peer="${idA}"}`)).toBe(0)
    expect(m.get(`mazemaker_peer_copies{peer="${idA}"}`)).toBe(3)
    expect(m.get(`mazemaker_peer_copies{peer="${idC}"}`)).toBe(0)
  } finally {
    await cleanup([c])
  }
})
