/**
 * Rendezvous flows where time matters (heartbeat 60 s, resolver cache 240 s, record expiry
 * 300 s), with in-process pods and an in-process rendezvous on real loopback sockets sharing one
 * FakeClock. Every loop (pull loop, heartbeat) sleeps on that clock, so the test moves time with
 * advance() and then waits until every loop has gone back to sleep (settle): nothing sleeps
 * minutes, and no assertion depends on real time.
 */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FakeClock, SECOND_MS } from '../../src/lib/clock'
import { memoryLogger } from '../../src/lib/log'
import { openHome, shortId } from '../../src/identity'
import { savePodConfig } from '../../src/config'
import { openRendezvousStore, RECORD_TTL_MS, RENDEZVOUS_DB_FILE, startRendezvous, type RendezvousService } from '../../src/rendezvous'
import { PULL_BUDGET_MS, RENDEZVOUS_CACHE_MS, RENDEZVOUS_HEARTBEAT_MS } from '../../src/sync/constants'
import { startPod, type Pod } from '../../src/pod'

const SETTLE_TIMEOUT_MS = 10_000
/** Short pull interval, so A retries the stale URL several times before its cache expires. */
const SYNC_INTERVAL_S = 60

/**
 * A FakeClock that also counts pulls in flight: each pull sleeps on its time budget (120 s, longer
 * than any loop sleep here) until it ends. While a pull runs, its budget and watchdog timers add to
 * `sleeping`, so the count alone could match while a heartbeat is still in flight.
 */
class LoopClock extends FakeClock {
  pullsInFlight = 0
  override sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (ms !== PULL_BUDGET_MS) return super.sleep(ms, signal)
    this.pullsInFlight++
    return super.sleep(ms, signal).finally(() => this.pullsInFlight--)
  }
}

let dir: string
let clock: LoopClock
let log: ReturnType<typeof memoryLogger>
let rv: RendezvousService | null
let running: Pod[]

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mzm-rv-clock-'))
  clock = new LoopClock()
  log = memoryLogger('debug')
  rv = null
  running = []
})

afterEach(async () => {
  for (const pod of running) await pod.close()
  await rv?.close()
  rmSync(dir, { recursive: true, force: true })
})

const rvHome = () => join(dir, 'rendezvous')

async function startRv(port = 0): Promise<RendezvousService> {
  rv = await startRendezvous({ home: rvHome(), port, host: '127.0.0.1', clock, log: log.with({ svc: 'rendezvous' }) })
  return rv
}

/** Issued through the store, as `mazemaker rendezvous token create` does. */
function issueToken(): string {
  const db = openRendezvousStore(join(rvHome(), RENDEZVOUS_DB_FILE), clock)
  try {
    return db.createToken('clock test').token
  } finally {
    db.close()
  }
}

/** A home whose pod.toml has [rendezvous] (written before the pod starts, as `rendezvous join` does). */
async function joinedHome(name: string, url: string, token: string): Promise<string> {
  const home = join(dir, name)
  const h = await openHome(home, { log })
  savePodConfig(h.paths.podToml, { ...h.config, rendezvous: { url, token } })
  return home
}

async function start(home: string): Promise<Pod> {
  // liveWaitSeconds 0: this file counts the interval's pulls; live long-polls are test/live/'s.
  const pod = await startPod({ home, port: 0, host: '127.0.0.1', clock, log, syncIntervalSeconds: SYNC_INTERVAL_S, liveWaitSeconds: 0 })
  running.push(pod)
  await settle()
  return pod
}

async function stop(pod: Pod): Promise<void> {
  running = running.filter((p) => p !== pod)
  await pod.close()
  await settle()
}

/** Waits until every running pod's pull loop and heartbeat sleep on the clock again, with no pull in flight. */
async function settle(): Promise<void> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS
  while (clock.pullsInFlight !== 0 || clock.sleeping !== running.length * 2) {
    if (Date.now() > deadline)
      throw new Error(`loops did not settle: ${clock.sleeping} sleeping, want ${running.length * 2}; ${clock.pullsInFlight} pulls in flight`)
    await Bun.sleep(1) // yields to the I/O in flight; the assertion never depends on how long
  }
}

/** Moves the clock `totalMs` forward in `stepMs` steps, letting every loop run at each step. */
async function advance(totalMs: number, stepMs = totalMs): Promise<void> {
  for (let done = 0; done < totalMs; done += stepMs) {
    clock.advance(Math.min(stepMs, totalMs - done))
    await settle()
  }
}

async function api<T = any>(pod: Pod, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const token = readFileSync(pod.home.paths.adminToken, 'utf8').trim()
  const res = await fetch(pod.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : null }
}

/** Pairs both ways by pasting handshake URLs only. */
async function pairByHandshake(a: Pod, b: Pod): Promise<void> {
  for (const [from, to] of [
    [a, b],
    [b, a],
  ] as const) {
    const hs = (await api(to, 'GET', '/peer/identity')).body.handshake_url
    const res = await api(from, 'POST', '/peer/add', { handshake_url: hs })
    expect(res.status).toBe(201)
    expect(res.body.peer.url).toBe(`mzm-rendezvous://${to.id}`)
  }
}

async function remember(pod: Pod, label: string, content: string): Promise<void> {
  expect((await api(pod, 'POST', '/memories', { label, content })).status).toBe(201)
}

async function copies(pod: Pod, from: Pod): Promise<string[]> {
  const res = await api(pod, 'GET', `/memories?prefix=${encodeURIComponent(`peer:${from.id}:`)}&limit=500`)
  return (res.body.memories as { label: string }[]).map((m) => m.label.slice(`peer:${from.id}:`.length)).sort()
}

async function peerView(pod: Pod, id: string) {
  const res = await api(pod, 'GET', '/peer/peers')
  return (res.body.peers as { id: string; status: string; last_error: string | null; resolved_url: string | null }[]).find((p) => p.id === id)!
}

async function heartbeat(pod: Pod) {
  return (await api(pod, 'GET', '/status')).body.rendezvous as {
    registered: boolean
    last_ok_at: string | null
    last_error: string | null
    advertised_url: string
  }
}

function lookup(pod: Pod): Promise<Response> {
  return fetch(`${rv!.url}/api/peers/lookup/${pod.id}`, { headers: { 'mzm-peer-key': pod.home.identity.publicKey } })
}

async function lookedUpUrl(pod: Pod): Promise<string | null> {
  const res = await lookup(pod)
  return res.status === 200 ? ((await res.json()) as { url: string }).url : null
}

const linesOf = (pod: Pod) => log.lines.filter((l) => l.includes(`pod=${shortId(pod.id)}`))

describe('a pod that moves', () => {
  test("B restarts on another port: A finds it again after B's next heartbeat and A's cache expiry, with no operator action", async () => {
    await startRv()
    const token = issueToken()
    const a = await start(await joinedHome('a', rv!.url, token))
    const bHome = await joinedHome('b', rv!.url, token)
    let b = await start(bHome)
    await pairByHandshake(a, b)
    await remember(b, 'public:before', 'written before the move')
    expect((await a.syncNow(b.id))[0]).toMatchObject({ ok: true, stored: 1 })
    const resolvedAt = clock.now() // A's resolver cached B's URL now
    await settle()

    const oldUrl = b.url
    await stop(b)
    b = await start(bHome)
    expect(b.url).not.toBe(oldUrl)
    // B's first heartbeat on restart already told the rendezvous; A still holds the old URL.
    expect(await lookedUpUrl(b)).toBe(b.url)
    await remember(b, 'public:after', 'written after the move')

    // From here only time passes. A's own loop pulls every 60 s (backing off after failures).
    const errors: string[] = []
    let foundAfterMs: number | null = null
    while (foundAfterMs === null && clock.now() - resolvedAt < 2 * RENDEZVOUS_CACHE_MS) {
      await advance(5 * SECOND_MS)
      const view = await peerView(a, b.id)
      if (view.last_error) errors.push(view.last_error)
      if ((await copies(a, b)).includes('public:after')) foundAfterMs = clock.now() - resolvedAt
    }
    // While the cache held the old URL, pulls failed there (and nothing was lost)...
    expect(errors.length).toBeGreaterThan(0)
    expect(errors.every((e) => e.startsWith('request_failed: ') && e.includes(oldUrl))).toBe(true)
    // ...and the first pull after the cache expired found B at its new URL.
    expect(foundAfterMs).not.toBeNull()
    expect(foundAfterMs!).toBeGreaterThanOrEqual(RENDEZVOUS_CACHE_MS)
    expect(foundAfterMs!).toBeLessThanOrEqual(RENDEZVOUS_CACHE_MS + SYNC_INTERVAL_S * SECOND_MS + 5 * SECOND_MS)
    expect(await copies(a, b)).toEqual(['public:after', 'public:before'])
    expect(await peerView(a, b.id)).toMatchObject({ status: 'ready', last_error: null, resolved_url: b.url })
    expect(linesOf(a).some((l) => l.includes('peer recovered'))).toBe(true)
  })
})

describe('the rendezvous goes down', () => {
  test('pulls continue on the last resolved URLs; when it comes back, heartbeats resume', async () => {
    await startRv()
    const token = issueToken()
    const port = Number(new URL(rv!.url).port)
    const a = await start(await joinedHome('a', rv!.url, token))
    const b = await start(await joinedHome('b', rv!.url, token))
    await pairByHandshake(a, b)
    await remember(b, 'public:one', 'before the outage')
    expect((await a.syncNow(b.id))[0]).toMatchObject({ ok: true, stored: 1 })
    await settle()

    await rv!.close()
    rv = null
    // The next heartbeat fails, and says so in /status.
    await advance(RENDEZVOUS_HEARTBEAT_MS)
    const down = await heartbeat(a)
    expect(down.registered).toBe(false)
    expect(down.last_error).toStartWith('request_failed: ')
    expect(linesOf(a).some((l) => l.includes('op=rendezvous') && l.includes('level=warn') && l.includes('err=request_failed'))).toBe(true)

    // Past the cache: each pull's lookup fails, and the pod pulls from the last URL it resolved.
    await advance(RENDEZVOUS_CACHE_MS, RENDEZVOUS_HEARTBEAT_MS)
    await remember(b, 'public:two', 'during the outage')
    expect((await a.syncNow(b.id))[0]).toMatchObject({ ok: true, stored: 1 })
    expect(await copies(a, b)).toEqual(['public:one', 'public:two'])
    expect(await peerView(a, b.id)).toMatchObject({ status: 'ready', resolved_url: b.url })
    expect(linesOf(a).some((l) => l.includes('op=resolve') && l.includes('err=request_failed'))).toBe(true)
    // Repeated heartbeat failures are not re-logged at warn.
    expect(linesOf(a).filter((l) => l.includes('op=rendezvous') && l.includes('level=warn'))).toHaveLength(1)

    // It comes back on the same address (its database kept the tokens): the next heartbeat registers again.
    await startRv(port)
    await advance(RENDEZVOUS_HEARTBEAT_MS)
    for (const pod of [a, b]) {
      const hb = await heartbeat(pod)
      expect(hb).toMatchObject({ registered: true, last_error: null, advertised_url: pod.url })
      expect(Date.parse(hb.last_ok_at!)).toBe(clock.now())
      expect(await lookedUpUrl(pod)).toBe(pod.url)
      expect(linesOf(pod).some((l) => l.includes('registered again'))).toBe(true)
    }
    await remember(b, 'public:three', 'after the outage')
    await advance(RENDEZVOUS_CACHE_MS, RENDEZVOUS_HEARTBEAT_MS) // A's loop pulls by itself
    expect(await copies(a, b)).toEqual(['public:one', 'public:three', 'public:two'])
  })
})

describe('expiry', () => {
  test('a pod that stops heartbeating disappears from lookups exactly 300 s after its last heartbeat', async () => {
    await startRv()
    const token = issueToken()
    const b = await start(await joinedHome('b', rv!.url, token))

    // While it heartbeats, the record stays, each beat pushing expiry 300 s ahead.
    for (let i = 0; i < 6; i++) {
      await advance(RENDEZVOUS_HEARTBEAT_MS)
      const res = await lookup(b)
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ peer_id: b.id, url: b.url, expires_at: new Date(clock.now() + RECORD_TTL_MS).toISOString() })
    }
    const lastBeat = Date.parse((await heartbeat(b)).last_ok_at!)
    expect(lastBeat).toBe(clock.now())

    await stop(b)
    await advance(RECORD_TTL_MS - SECOND_MS)
    expect(await lookedUpUrl(b)).toBe(b.url)
    await advance(SECOND_MS)
    expect(clock.now() - lastBeat).toBe(RECORD_TTL_MS)
    const gone = await lookup(b)
    expect(gone.status).toBe(404)
    expect(await gone.json()).toMatchObject({ error: 'not_found' })
  })
})
