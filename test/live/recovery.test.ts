/**
 * Live pulls survive the serving pod going away while B's long-poll is held (real held requests):
 * a restart (SIGTERM answers held requests at once), a crash (kill -9: the connection just
 * drops), and B itself crashing mid-hold. B recovers by itself, through backoff and back to
 * live, and ends with exactly A's public memories: nothing lost, nothing twice.
 * A is always a real process, stopped or killed for real. Where B's backoff is on the path
 * (A goes away), B runs in this process on a FakeClock, so its 5 s backoff is stepped, not
 * slept through; where B is the one killed, B is a real process too.
 */
import { afterEach, expect, test } from 'bun:test'
import { FakeClock } from '../../src/lib/clock'
import { BACKOFF_BASE_MS } from '../../src/sync/constants'
import { addPeer, identityOf } from '../helpers/federation'
import { type InProcessPod, inProcessPod } from '../helpers/in-process-pod'
import { cleanup, spawnPod, type PodProcess, type TestPod } from '../helpers/pod-process'

const LIVE = { MAZEMAKER_LIVE_WAIT: '50' }
let running: PodProcess[] = []
let inProcess: InProcessPod[] = []
afterEach(async () => {
  for (const p of inProcess) await p.close()
  inProcess = []
  await cleanup(running)
  running = []
})

async function start(opts: { home?: string; port?: number } = {}): Promise<PodProcess> {
  const pod = await spawnPod({ env: LIVE, home: opts.home, args: opts.port ? ['--port', String(opts.port)] : [] })
  running.push(pod)
  return pod
}

/** Long-polls held at `pod` right now (its /metrics gauge). */
async function held(pod: PodProcess): Promise<number> {
  const res = await fetch(`${pod.url}/metrics`, { headers: { authorization: `Bearer ${pod.token()}` } }).catch(() => null)
  if (!res?.ok) return -1
  return Number(/^mazemaker_live_held_requests (\d+)/m.exec(await res.text())?.[1] ?? 0)
}

async function until(cond: () => Promise<boolean>, what: string, ms = 40_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(20)
  }
}

/** Every copy B holds from A, by origin label (duplicates kept, so a double shows). */
async function copyLabels(b: TestPod, aId: string): Promise<string[]> {
  const res = await b.api('GET', `/memories?origin=${aId}&limit=500`)
  return (res.body.memories as { label: string }[]).map((m) => m.label.slice(`peer:${aId}:`.length)).sort()
}

async function write(a: PodProcess, label: string): Promise<void> {
  const res = await a.api('POST', '/memories', { label, content: `content of ${label}` })
  expect(res.status).toBe(201)
}

/**
 * A (a process) and B (in this process, pull loop running, live wait 50 s) on `clock`, which
 * starts at real time: A checks B's request timestamps against its own clock.
 */
async function livePairFakeB(clock: FakeClock): Promise<{ a: PodProcess; b: InProcessPod; aId: string; port: number }> {
  const a = await start()
  const b = await inProcessPod({ clock, autoSync: true, liveWaitSeconds: 50 })
  inProcess.push(b)
  return pairLive(a, b)
}

async function livePair(): Promise<{ a: PodProcess; b: PodProcess; aId: string; port: number }> {
  const [a, b] = await Promise.all([start(), start()])
  return pairLive(a, b)
}

async function pairLive<B extends TestPod>(a: PodProcess, b: B): Promise<{ a: PodProcess; b: B; aId: string; port: number }> {
  await addPeer(a, b, { sync: false })
  await addPeer(b, a)
  await until(async () => (await held(a)) === 1, "B's long-poll held at A")
  return { a, b, aId: (await identityOf(a)).pod_id, port: Number(new URL(a.url).port) }
}

async function expectExactly(b: TestPod, aId: string, labels: string[]): Promise<void> {
  await until(async () => (await copyLabels(b, aId)).length >= labels.length, `${labels.length} copies at B`)
  expect(await copyLabels(b, aId)).toEqual([...labels].sort())
}

test('A restarts while B is held: held requests are answered at once, B reconnects by itself', async () => {
  const clock = new FakeClock(Date.now())
  let { a, b, aId, port } = await livePairFakeB(clock)
  await write(a, 'public:before')
  await expectExactly(b, aId, ['public:before'])
  await until(async () => (await held(a)) === 1, 'B held again')
  const stopped = Date.now()
  expect(await a.stop()).toBe(0)
  // SIGTERM did not wait out B's 50 s hold.
  expect(Date.now() - stopped).toBeLessThan(20_000)
  running = running.filter((p) => p !== a)
  a = await start({ home: a.home, port })
  await write(a, 'public:after-restart')
  // The answer at A's shutdown was empty and not held: B backs off (on its clock) and comes back.
  clock.advance(BACKOFF_BASE_MS)
  await expectExactly(b, aId, ['public:before', 'public:after-restart'])
  await until(async () => (await held(a)) === 1, 'B live again')
  await write(a, 'public:live-again')
  await expectExactly(b, aId, ['public:before', 'public:after-restart', 'public:live-again'])
}, 90_000)

test('A is killed (kill -9) during the hold: B backs off, recovers when A is back, nothing lost or doubled', async () => {
  const clock = new FakeClock(Date.now())
  let { a, b, aId, port } = await livePairFakeB(clock)
  await write(a, 'public:one')
  await expectExactly(b, aId, ['public:one'])
  await until(async () => (await held(a)) === 1, 'B held again')
  await a.kill9()
  running = running.filter((p) => p !== a)
  a = await start({ home: a.home, port })
  await write(a, 'public:two')
  await write(a, 'public:three')
  // The dropped connection was B's first failure: it retries once its backoff is due.
  clock.advance(BACKOFF_BASE_MS)
  await expectExactly(b, aId, ['public:one', 'public:two', 'public:three'])
  await until(async () => (await held(a)) === 1, 'B live again')
}, 90_000)

test('B is killed (kill -9) while its request is held: restarted, it resumes from its cursor', async () => {
  let { a, b, aId } = await livePair()
  await write(a, 'public:first')
  await expectExactly(b, aId, ['public:first'])
  await until(async () => (await held(a)) === 1, 'B held again')
  await b.kill9()
  running = running.filter((p) => p !== b)
  await write(a, 'public:while-b-was-down')
  b = await start({ home: b.home })
  await expectExactly(b, aId, ['public:first', 'public:while-b-was-down'])
  // A released the dead connection's slot; B's new loop holds its own.
  await until(async () => (await held(a)) === 1, 'one long-poll held (the new B)')
  await write(a, 'public:after')
  await expectExactly(b, aId, ['public:first', 'public:while-b-was-down', 'public:after'])
}, 90_000)
