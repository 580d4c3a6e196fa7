/**
 * A paired peer that misbehaves cannot hold our pulls hostage or fill our disk. The puller is a real in-process pod on a FakeClock; the hostile peer is a scripted
 * server signing with the real pair key (./_served-peer.ts); the honest peer is a real pod.
 */
import { afterEach, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import { FakeClock, MINUTE_MS } from '../../src/lib/clock'
import { memoryLogger } from '../../src/lib/log'
import { savePodConfig } from '../../src/config'
import { startPod, type Pod } from '../../src/pod'
import { PULL_BUDGET_MS } from '../../src/sync/constants'
import { tempHome } from '../helpers/pod-process'
import { automergeInFile } from '../store/_fts-segments'
import { entry, servedPeer, untilAborted, waitFor, type Script, type ServedPeer } from './_served-peer'

/** Under the pull budget, so one stalled pull can outlast several rounds. */
const INTERVAL_MS = MINUTE_MS
let pods: Pod[] = []
let served: ServedPeer[] = []
let homes: string[] = []
afterEach(async () => {
  for (const p of pods) await p.close()
  for (const s of served) await s.close()
  for (const h of homes) rmSync(h, { recursive: true, force: true })
  pods = []
  served = []
  homes = []
})

async function pod(clock: FakeClock, opts: { autoSync?: boolean; home?: string; maxPeerBytes?: number } = {}) {
  const home = opts.home ?? tempHome()
  if (!opts.home) homes.push(home)
  const log = memoryLogger()
  if (opts.maxPeerBytes) {
    const { openHome } = await import('../../src/identity')
    const h = await openHome(home, { log })
    savePodConfig(h.paths.podToml, { ...h.config, max_peer_bytes: opts.maxPeerBytes })
  }
  // liveWaitSeconds 0: these tests count what each interval pull and sync-now fetches (live: test/live/).
  const p = await startPod({
    home,
    port: 0,
    host: '127.0.0.1',
    clock,
    log,
    autoSync: opts.autoSync ?? false,
    syncIntervalSeconds: INTERVAL_MS / 1000,
    liveWaitSeconds: 0,
  })
  pods.push(p)
  return Object.assign(p, { log })
}

async function hostile(clock: FakeClock, puller: Pod, script: Script) {
  const h = await servedPeer(clock, script)
  served.push(h)
  h.trust(puller.home.identity.podId, puller.home.identity.publicKey)
  puller.home.peers.add({ id: h.id, key: h.key, url: h.url })
  return h
}

function pair(a: Pod, b: Pod) {
  a.home.peers.add({ id: b.home.identity.podId, key: b.home.identity.publicKey, url: b.url })
  b.home.peers.add({ id: a.home.identity.podId, key: a.home.identity.publicKey, url: a.url })
}

function api(p: Pod, method: string, path: string, body?: unknown) {
  const headers: Record<string, string> = { authorization: `Bearer ${p.home.identity.adminToken}` }
  if (body !== undefined) headers['content-type'] = 'application/json'
  return fetch(p.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
}

async function peerView(p: Pod, id: string) {
  const body = (await (await api(p, 'GET', '/peer/peers')).json()) as {
    peers: { id: string; status: string; hint: string | null; last_error: string | null; memories: number }[]
  }
  return body.peers.find((v) => v.id === id)!
}

/** Pages of one memory each, `more: true` forever, the cursor always moving. */
const endless = (prefix: string) => (since: string | null) => {
  const n = Number(since ?? 0) + 1
  return { cursor: String(n), more: true, memories: [entry(`public:${prefix}${n}`, `page ${n}`)] }
}

/** Rejects if `p` has not settled within `ms` of real time. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, Bun.sleep(ms).then(() => Promise.reject(new Error(`${what} did not return within ${ms} ms`)))])
}

test('a peer that stalls with more:true forever delays neither another peer’s pulls nor syncNow', async () => {
  const clock = new FakeClock()
  const b = await pod(clock, { autoSync: true })
  const a = await pod(clock)
  pair(a, b)
  // The hostile peer answers its first page at once, then holds every answer until aborted.
  const h = await hostile(clock, b, { page: endless('h'), hold: (n, signal) => (n === 1 ? Promise.resolve() : untilAborted(signal)) })
  a.store.remember({ label: 'public:first', content: 'one' })

  clock.advance(INTERVAL_MS)
  await waitFor(() => b.store.countPeerCopies(a.id) === 1 && h.stats.requests >= 2, 5000, 'both pulls under way')

  // Next round: the honest peer is pulled again while the hostile pull is still in flight.
  a.store.remember({ label: 'public:second', content: 'two' })
  clock.advance(INTERVAL_MS)
  await waitFor(() => b.store.countPeerCopies(a.id) === 2, 5000, "the honest peer's second memory")
  expect(h.stats.aborted).toBe(0) // still stalled: nothing waited for it

  // syncNow for the honest peer answers at once too.
  a.store.remember({ label: 'public:third', content: 'three' })
  const [r] = await within(b.syncNow(a.id), 5000, 'syncNow(honest peer)')
  expect(r).toMatchObject({ peer: a.id, ok: true, stored: 1 })
  expect(b.store.countPeerCopies(h.id)).toBe(1)
})

test('a pull runs out of its time budget: the request is aborted, the peer is in error and backs off', async () => {
  const clock = new FakeClock()
  const b = await pod(clock)
  const h = await hostile(clock, b, { page: endless('h'), hold: (n, signal) => (n === 1 ? Promise.resolve() : untilAborted(signal)) })
  const pulling = b.syncNow(h.id)
  await waitFor(() => h.stats.requests >= 2, 5000, 'the stalled request')
  clock.advance(PULL_BUDGET_MS)
  const [r] = await within(pulling, 5000, 'the pull past its budget')
  expect(r).toMatchObject({ ok: false, error: 'timeout', stored: 0 })
  expect(r!.detail).toContain('budget')
  await waitFor(() => h.stats.aborted >= 1, 5000, 'the request aborted')
  expect(b.store.countPeerCopies(h.id)).toBe(1) // what arrived before the budget ran out is kept
  expect(await peerView(b, h.id)).toMatchObject({ status: 'error' })
  expect(b.store.peerState(h.id).consecutive_failures).toBe(1) // the backoff counts it
})

test('a pull of many pages puts FTS5 merges off while it runs, and a pull cut off mid-way (time budget) ends that', async () => {
  const clock = new FakeClock()
  const b = await pod(clock)
  const h = await hostile(clock, b, { page: endless('h'), hold: (n, signal) => (n <= 2 ? Promise.resolve() : untilAborted(signal)) })
  const pulling = b.syncNow(h.id)
  await waitFor(() => h.stats.requests >= 3, 5000, 'the third (stalled) request')
  expect(automergeInFile(b.home.paths.db)).toBe(0)
  clock.advance(PULL_BUDGET_MS)
  const [r] = await within(pulling, 5000, 'the pull past its budget')
  expect(r).toMatchObject({ ok: false, error: 'timeout' })
  expect(automergeInFile(b.home.paths.db)).toBe(4)
})

test('removing a peer (with --purge) aborts its pull in flight, and nothing is stored after the removal', async () => {
  const clock = new FakeClock()
  const b = await pod(clock)
  const h = await hostile(clock, b, { page: endless('h'), hold: (n, signal) => (n <= 2 ? Promise.resolve() : untilAborted(signal)) })
  const pulling = b.syncNow(h.id)
  await waitFor(() => h.stats.requests >= 3, 5000, 'the third (stalled) request')
  expect(b.store.countPeerCopies(h.id)).toBe(2)

  const res = await api(b, 'DELETE', `/peer/peers/${h.id}?purge=true`)
  expect(res.status).toBe(200)
  const [r] = await within(pulling, 5000, 'the pull of a removed peer')
  expect(r).toMatchObject({ ok: false, error: 'removed' })
  await waitFor(() => h.stats.aborted >= 1, 5000, 'the stalled request aborted')
  expect(b.store.countPeerCopies(h.id)).toBe(0)
  // No trace: not even a sync state row for the removed peer.
  expect(b.store.peerState(h.id)).toMatchObject({ cursor: null, last_error: null, last_sync_at: null })
})

test('deleting the key file by hand mid-pull: the page answered after it is not stored', async () => {
  const clock = new FakeClock()
  const b = await pod(clock)
  let release!: () => void
  const released = new Promise<void>((r) => (release = r))
  const h = await hostile(clock, b, { page: endless('h'), hold: (n) => (n === 2 ? released : Promise.resolve()) })
  const pulling = b.syncNow(h.id)
  await waitFor(() => h.stats.requests >= 2, 5000, 'the held second request')
  rmSync(`${b.home.paths.peerKeyDir}/${h.id}.key`)
  release()
  const [r] = await within(pulling, 5000, 'the pull of a revoked peer')
  expect(r).toMatchObject({ ok: false, error: 'revoked' })
  expect(b.store.countPeerCopies(h.id)).toBe(1)
  expect(h.stats.requests).toBe(2)
})

test('pausing a peer mid-pull stops it', async () => {
  const clock = new FakeClock()
  const b = await pod(clock)
  const h = await hostile(clock, b, { page: endless('h'), hold: (n, signal) => (n === 1 ? Promise.resolve() : untilAborted(signal)) })
  const pulling = b.syncNow(h.id)
  await waitFor(() => h.stats.requests >= 2, 5000, 'the stalled request')
  const res = await fetch(`${b.url}/peer/peers/${h.id}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${b.home.identity.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sync: false }),
  })
  expect(res.status).toBe(200)
  expect((await within(pulling, 5000, 'the pull of a paused peer'))[0]).toMatchObject({ ok: false, error: 'paused' })
  expect(b.store.countPeerCopies(h.id)).toBe(1)
})

test('copies that break our rules are dropped and counted: sync result, log line and /metrics', async () => {
  const clock = new FakeClock()
  const b = await pod(clock)
  const page = [
    entry('public:fine', 'ok'),
    entry('public:huge', 'x'.repeat(65_537)), // over the default max_content_bytes (64 KiB)
    entry('public:\x1b[2Jspoof', 'clears the screen'),
    entry('public:\u202egnp.exe', 'bidi override'),
    entry(`public:${'l'.repeat(300)}`, 'label over 256 chars'),
  ]
  const h = await hostile(clock, b, { page: () => ({ cursor: '1', more: false, memories: page }) })
  const [r] = await b.syncNow(h.id)
  expect(r).toMatchObject({ ok: true, fetched: 5, stored: 1, dropped: 4 })
  expect(b.store.list({ origin: h.id }).memories.map((m) => m.label)).toEqual([`peer:${h.id}:public:fine`])
  expect(b.log.lines.some((l) => l.includes('op=sync') && l.includes('dropped=4'))).toBe(true)
  const metrics = await (await api(b, 'GET', '/metrics')).text()
  expect(metrics).toContain(`mazemaker_peer_copies_dropped_total{peer="${h.id}"} 4`)
})

test('max_peer_bytes: past it the peer is in error with quota_exceeded and nothing more is stored; raising it resumes', async () => {
  const clock = new FakeClock()
  const home = tempHome()
  homes.push(home)
  const content = 'q'.repeat(1000)
  // Three pages of two 1000-byte memories; the quota holds about three of them.
  const pages = (since: string | null) => {
    const n = Number(since ?? 0) + 1
    return { cursor: String(n), more: n < 3, memories: [entry(`public:p${n}a`, content), entry(`public:p${n}b`, content)] }
  }
  let b = await pod(clock, { home, maxPeerBytes: 3500 })
  const h = await hostile(clock, b, { page: pages })
  const [r] = await b.syncNow(h.id)
  expect(r).toMatchObject({ ok: false, error: 'quota_exceeded' })
  expect(b.store.countPeerCopies(h.id)).toBe(2)
  expect(b.store.peerState(h.id).cursor).toBe('1')
  const view = await peerView(b, h.id)
  expect(view.status).toBe('error')
  expect(view.last_error).toContain('quota_exceeded')
  // Retried later: still nothing more.
  expect((await b.syncNow(h.id))[0]).toMatchObject({ error: 'quota_exceeded' })
  expect(b.store.countPeerCopies(h.id)).toBe(2)

  await b.close()
  pods = pods.filter((p) => p !== b)
  b = await pod(clock, { home, maxPeerBytes: 10_000 })
  expect((await b.syncNow(h.id))[0]).toMatchObject({ ok: true, stored: 4 })
  expect(b.store.countPeerCopies(h.id)).toBe(6)
  expect((await peerView(b, h.id)).status).toBe('ready')
})

test('a mass delete is held (status held, how many in last_error) until the operator accepts it', async () => {
  const clock = new FakeClock()
  const a = await pod(clock)
  const b = await pod(clock)
  pair(a, b)
  const ids = Array.from({ length: 300 }, (_, i) => a.store.remember({ label: `public:m${i}`, content: `memory ${i}` }).id)
  expect((await b.syncNow(a.id))[0]).toMatchObject({ ok: true, stored: 300 })

  for (const id of ids.slice(0, 200)) a.store.forget(id)
  a.store.remember({ label: 'public:new', content: 'arrives anyway' })
  expect((await b.syncNow(a.id))[0]).toMatchObject({ ok: true, deleted: 0, held: 200, stored: 1 })
  expect(b.store.countPeerCopies(a.id)).toBe(301)
  const held = await peerView(b, a.id)
  expect(held.status).toBe('held')
  expect(held.last_error).toContain('200')
  expect(held.last_error).toContain('accept-deletes')
  expect(held.hint).toContain('accept-deletes')
  // Pulling again changes nothing, and says so at warn only once. POST /peer/sync-now for this
  // peer answers with the status and hint its view shows.
  const again = await api(b, 'POST', '/peer/sync-now', { peer: a.id })
  expect(again.status).toBe(200)
  expect(await again.json()).toEqual({ results: [expect.objectContaining({ peer: a.id, deleted: 0, held: 200, status: 'held', hint: held.hint })] })
  expect(b.log.lines.filter((l) => l.includes('err=deletes_held') && l.includes('level=warn'))).toHaveLength(1)

  const res = await api(b, 'POST', `/peer/peers/${a.id}/accept-deletes`)
  expect(res.status).toBe(200)
  expect(await res.json()).toMatchObject({ deleted: 200, peer: { status: 'ready' } })
  expect(b.store.countPeerCopies(a.id)).toBe(101)
  expect((await api(b, 'POST', '/peer/peers/0a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3/accept-deletes')).status).toBe(404)
})
