/**
 * Fan-out at a hub: SPOKES paired spokes each hold a long-poll (wait 50, scope `public:*`), one
 * write at the hub wakes them all, each gets the page with the new memory and re-asks at once
 * from the new cursor. Per write: the hub's CPU seconds (/proc utime + stime over WRITES writes
 * in a row, each with every answer and every re-ask: SETTLE_MS after the last spoke has its page,
 * default 100 ms and 1 ms per 10 spokes beyond 1,000, the next write goes out; the hub's idle
 * rate with all of them held is measured first and subtracted over the trial's window, which is
 * thus mostly its writes' work: with a 500 ms pause after each write, idle time was nine tenths
 * of the window, and a difference of 0.6 % in the two hubs' measured idle rates moved their
 * ratio by 8 %. Whether every re-ask is held again is asked of /metrics after the trial's CPU is
 * read, not between the writes: a look at it costs a hub of 200 peers 5 ms of CPU) and
 * the time until every spoke has the memory (machine clock, from sending the write to the last
 * spoke's page arriving). The spokes are the
 * production pull client (pullPage: sealed, signed, checked) without a store, CHILDREN processes
 * of up to 60 each (each keeps its connection), so the hub's cost is not drowned by 2,000 SQLite
 * pullers on two cores. Each child makes its spokes' first asks one at a time (all spokes come from
 * 127.0.0.1, as behind a tunnel, and 2,000 first asks at once meet the per-address bound of
 * unauthenticated requests); the trials start once the hub holds every long-poll (its /metrics),
 * and the writes go over pod.sock as the CLI's do. Failures are counted per write (a 429 among
 * them would be a re-ask refused).
 *
 *   BASE=<checkout>   a second hub from that checkout's src/main.ts, same spokes count, trials
 *                     alternating between the two: "this tree / BASE" in the same run. Run this
 *                     tree from source too then (MZM_TEST_RUNTIME=bun-source), or the binary is
 *                     compared with source.
 *   FRESH=1           every ask on a new connection (a tunnel that keeps few idle connections)
 *   POD_PROF=<dir>    this tree's hub under Bun's sampling profiler (markdown, at its exit; with
 *                     POD_PROF_FORMAT=json a .cpuprofile: npx bun bench/profile-top.ts <file> --from=0.5)
 *   WARM_CYCLES=<n>   answered long-polls before the trials (default 20,000: past the JIT's warm-up)
 *
 *   SPOKES=200 TRIALS=6 npx bun bench/fan-out.bench.ts
 *   MZM_TEST_RUNTIME=bun-source SPOKES=2000 TRIALS=6 BASE=/tmp/base npx bun bench/fan-out.bench.ts
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openHome, type PodHome, type PodId, type PublicKey } from '../src/identity'
import { memoryLogger } from '../src/lib/log'
import { BUSY_RETRY_MS } from '../src/sync/constants'
import { pullPage } from '../src/sync/peer-client'
import { tempHome, type PodProcess } from '../test/helpers/pod-process'
import { fmt, percentile, row } from './_util'
import { announce, startHubWithSpokes, cpuSeconds, envInt, loadNote, podCommand, stdinLines, type Child } from './_fed-util'

const CHILD_FLAG = '--child=fan-out-spokes'
/**
 * Bun's fetch keeps at most 64 idle keep-alive sockets per host: more spokes in one process would
 * reconnect on every cycle, which real spokes (one process each) do not.
 */
const SPOKES_PER_CHILD = 60
const SPOKES = envInt('SPOKES', 200)
const CHILDREN = Math.max(1, envInt('CHILDREN', Math.ceil(SPOKES / SPOKES_PER_CHILD)))
const TRIALS = envInt('TRIALS', 10)
const IDLE_S = envInt('IDLE_S', 5)
/** After the last spoke has the memory: time for the re-asks to reach the hub and be held. */
const SETTLE_MS = envInt('SETTLE_MS', 100 + Math.max(0, Math.ceil((SPOKES - 1000) / 10)))
/** Writes per trial, CPU measured over all of them. */
const WRITES = envInt('WRITES', 5)
/**
 * Answered long-polls before the trials: the hub's JIT is still compiling the serving path for the
 * first ~15,000 of them (its JIT threads' CPU counts in the hub's), and a hub that runs for days
 * is past that. WARM_CYCLES=0: one trial's writes only, as before.
 */
const WARM_CYCLES = envInt('WARM_CYCLES', 20_000)
const BASE = process.env.BASE ?? ''
/**
 * FRESH=1: every ask on a new connection (`Connection: close`), as a hub behind a tunnel sees
 * when the tunnel keeps few idle connections to it: each re-ask is unauthenticated until its MAC.
 */
const FRESH = process.env.FRESH === '1'
const now = () => performance.timeOrigin + performance.now()

/** Child: `count` spokes holding long-polls at the hub; reports when all of them have a token. */
async function spokesChild(configFile: string): Promise<void> {
  const cfg = JSON.parse(await Bun.file(configFile).text()) as { count: number; hub: { id: PodId; key: PublicKey; url: string } }
  const homes: PodHome[] = []
  for (let i = 0; i < cfg.count; i++) homes.push(await openHome(tempHome('mzm-fan-spoke-'), { log: memoryLogger() }))
  await announce({ spokes: homes.map((h) => ({ id: h.identity.podId, key: h.identity.publicKey })) })
  /** token → arrival time per spoke index. */
  const seen = new Map<string, number[]>()
  let waiting: { token: string; done: (v: unknown) => void } | null = null
  let failures = 0
  let firstFailure = ''
  let setupFailures = 0
  let setupFailure = ''
  let stop = false
  const check = () => {
    if (!waiting) return
    const got = seen.get(waiting.token)
    if (!got || got.filter((x) => x !== undefined).length < cfg.count) return
    const times = got.filter((x) => x !== undefined)
    waiting.done({ token: waiting.token, first: Math.min(...times), last: Math.max(...times), failures, firstFailure })
    waiting = null
    // Each report counts the failures since the last one.
    failures = 0
    firstFailure = ''
  }
  let loops: Promise<void>[] = []
  for await (const line of stdinLines()) {
    const cmd = JSON.parse(line) as { op: 'start' } | { op: 'await'; token: string } | { op: 'stop' }
    if (cmd.op === 'start') {
      // The first asks go one at a time per child: 2,000 at once from one address would meet the
      // per-address bound of unauthenticated requests and be answered 429 over and over.
      const firsts: (string | null)[] = []
      for (const h of homes) {
        const pairKey = await h.identity.pairKey(cfg.hub.id, cfg.hub.key)
        for (;;) {
          try {
            const page = await pullPage({
              baseUrl: cfg.hub.url,
              pairKey,
              selfId: h.identity.podId,
              peerId: cfg.hub.id,
              since: null,
              scope: ['public:*'],
              limit: 500,
              wait: 0,
              nowMs: Date.now(),
            })
            firsts.push(page.cursor)
            break
          } catch (err) {
            setupFailures++
            setupFailure ||= (err as Error).message
            await Bun.sleep(50 + Math.random() * 200)
          }
        }
      }
      loops = homes.map(async (h, i) => {
        const pairKey = await h.identity.pairKey(cfg.hub.id, cfg.hub.key)
        const ask = (since: string | null, wait: number) =>
          pullPage({
            baseUrl: cfg.hub.url,
            pairKey,
            selfId: h.identity.podId,
            peerId: cfg.hub.id,
            since,
            scope: ['public:*'],
            limit: 500,
            wait,
            nowMs: Date.now(),
            ...(FRESH ? { headers: { connection: 'close' } } : {}),
          })
        let since = firsts[i]!
        while (!stop) {
          try {
            const page = await ask(since, 50)
            const at = now()
            for (const m of page.memories) {
              if (!('label' in m) || !m.label.startsWith('public:fan-')) continue
              let list = seen.get(m.label)
              if (!list) seen.set(m.label, (list = []))
              list[i] = at
            }
            since = page.cursor
            check()
          } catch (err) {
            if (failures++ === 0) firstFailure = (err as Error).message
            // As the sync loop retries a 429 (src/sync/scheduler.ts).
            await Bun.sleep(BUSY_RETRY_MS * (0.5 + Math.random()))
          }
        }
      })
      await announce({ started: true, setupFailures, setupFailure })
    } else if (cmd.op === 'await') {
      void new Promise((done) => {
        waiting = { token: cmd.token, done }
        check()
      }).then(announce)
    } else {
      stop = true
      for (const h of homes) rmSync(h.paths.root, { recursive: true, force: true })
      await announce({ stopped: true })
      process.exit(0)
    }
  }
  void loops
}

/**
 * A local write over the home's Unix socket, as the CLI makes it: over TCP it would come from
 * 127.0.0.1 like the spokes, and meet the per-address bound while 2,000 first asks are in flight.
 */
function localWrite(pod: PodProcess, body: { label: string; content: string }): Promise<Response> {
  return fetch('http://pod/memories', {
    method: 'POST',
    unix: join(pod.home, 'pod.sock'),
    headers: { authorization: `Bearer ${pod.token()}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
}

interface Hub {
  name: string
  pod: PodProcess
  children: Child[]
  idleRate: number
  cpu: number[]
  every: number[]
  /** From sending each write to its 201: the commit path, which must not wait for the fan-out. */
  acked: number[]
}

async function startHub(name: string, command: string[] | undefined, dir: string, index: number): Promise<Hub> {
  const { pod, children } = await startHubWithSpokes({
    homePrefix: 'mzm-fan-hub-',
    seedLabel: 'seed',
    command,
    script: import.meta.path,
    flag: CHILD_FLAG,
    dir,
    hubIndex: index,
    spokes: SPOKES,
    children: CHILDREN,
    config: {},
  })
  return { name, pod, children, idleRate: 0, cpu: [], every: [], acked: [] }
}

/** Until the hub holds a long-poll of every spoke (its /metrics gauge, over pod.sock). */
/** Waits until the hub holds every spoke's long-poll; true if it did at the first look. */
async function allHeld(h: Hub, timeoutMs = 600_000): Promise<boolean> {
  const until = now() + timeoutMs
  for (let look = 0; ; look++) {
    const res = await fetch('http://pod/metrics', { unix: join(h.pod.home, 'pod.sock'), headers: { authorization: `Bearer ${h.pod.token()}` } })
    const held = Number(/^mazemaker_live_held_requests (\d+)/m.exec(await res.text())?.[1] ?? 0)
    if (held >= SPOKES) return look === 0
    if (now() > until) throw new Error(`${h.name}: ${held} of ${SPOKES} long-polls held after ${timeoutMs / 1000} s`)
    await Bun.sleep(250)
  }
}

/**
 * WRITES writes, one after another (each once every spoke had the last and had time to re-ask):
 * the hub's CPU over all of them, so /proc's 10 ms ticks are a small part of what is measured.
 */
async function trial(h: Hub, token: string): Promise<void> {
  const cpu0 = cpuSeconds(h.pod.pid)
  const t0 = now()
  let failures = 0
  let firstFailure = ''
  const every: number[] = []
  for (let w = 0; w < WRITES; w++) {
    const label = `${token}-${w}`
    for (const c of h.children) c.send(JSON.stringify({ op: 'await', token: label }))
    const sent = now()
    const res = await localWrite(h.pod, { label, content: `fan-out ${label}` })
    h.acked.push(now() - sent)
    if (res.status !== 201) throw new Error(`write: ${res.status} ${await res.text()}`)
    const reports = await Promise.all(h.children.map((c) => c.next()))
    every.push(Math.max(...reports.map((r) => r.last as number)) - sent)
    failures += reports.reduce((s, r) => s + r.failures, 0)
    firstFailure ||= reports.find((r) => r.firstFailure)?.firstFailure ?? ''
    await Bun.sleep(SETTLE_MS)
  }
  const window = (now() - t0) / 1000
  const cpu = (cpuSeconds(h.pod.pid) - cpu0 - h.idleRate * window) / WRITES
  // Every re-ask held again (asked now, outside the window); if not at once, some of the last
  // write's work fell outside the window: SETTLE_MS is too short for this machine.
  const settled = await allHeld(h, 60_000)
  h.cpu.push(cpu)
  h.every.push(...every)
  row(
    `${h.name}: ${token} (${WRITES} writes)`,
    `${fmt(cpu * 1000, 1)} ms CPU per write`,
    `${fmt((cpu / SPOKES) * 1e6, 0)} µs per spoke; every spoke has it after ${every.map((e) => fmt(e, 0)).join(', ')} ms${failures ? `; ${failures} failures (${firstFailure})` : ''}${settled ? '' : `; re-asks still arriving ${SETTLE_MS} ms after the last write (raise SETTLE_MS)`}`,
  )
}

/**
 * WARM_CYCLES answered long-polls in writes one right after the other (each once every spoke has
 * the last, no settling): its CPU per spoke is printed, and not counted in the trials.
 */
async function warmUp(h: Hub, token: string): Promise<void> {
  const writes = Math.ceil(WARM_CYCLES / SPOKES)
  if (writes === 0) return
  const cpu0 = cpuSeconds(h.pod.pid)
  for (let w = 0; w < writes; w++) {
    const label = `${token}-${w}`
    for (const c of h.children) c.send(JSON.stringify({ op: 'await', token: label }))
    const res = await localWrite(h.pod, { label, content: `warm-up ${label}` })
    if (res.status !== 201) throw new Error(`write: ${res.status} ${await res.text()}`)
    await Promise.all(h.children.map((c) => c.next()))
  }
  await Bun.sleep(SETTLE_MS)
  const cpu = (cpuSeconds(h.pod.pid) - cpu0) / writes
  row(`${h.name}: warm-up (${writes} writes)`, `${fmt(cpu * 1000, 1)} ms CPU per write`, `${fmt((cpu / SPOKES) * 1e6, 0)} µs per spoke (not counted)`)
}

async function main(): Promise<void> {
  console.log(
    `# fan-out: ${SPOKES} spokes holding long-polls${FRESH ? ' (each ask on a new connection)' : ''}, one write wakes them all; ${TRIALS} trials (Bun ${Bun.version}; ${loadNote()})`,
  )
  const dir = mkdtempSync(join(tmpdir(), 'mzm-fan-bench-'))
  const hubs: Hub[] = []
  try {
    hubs.push(await startHub('this tree', podCommand(), dir, 0))
    if (BASE) hubs.push(await startHub('BASE', [process.execPath, join(BASE, 'src', 'main.ts')], dir, 1))
    const setupStart = now()
    for (const h of hubs) for (const c of h.children) c.send(JSON.stringify({ op: 'start' }))
    for (const h of hubs) {
      const started = await Promise.all(h.children.map((c) => c.next()))
      const refused = started.reduce((n, r) => n + r.setupFailures, 0)
      await allHeld(h)
      row(
        `${h.name}: setup`,
        `${fmt((now() - setupStart) / 1000, 1)} s`,
        `every spoke's first page, then all ${SPOKES} long-polls held; ${refused} first asks refused and retried${refused ? ` (${started.find((r) => r.setupFailure)?.setupFailure})` : ''}`,
      )
    }
    // Every spoke's first pull answered and its long-poll held; the warm-up; then the idle rate.
    for (const h of hubs) await warmUp(h, `public:fan-warmup-${hubs.indexOf(h)}`)
    for (const h of hubs) await trial(h, `public:fan-warmed-${hubs.indexOf(h)}`)
    for (const h of hubs) [h.cpu.length, h.every.length, h.acked.length] = [0, 0, 0]
    for (const h of hubs) {
      const a = cpuSeconds(h.pod.pid)
      await Bun.sleep(IDLE_S * 1000)
      h.idleRate = (cpuSeconds(h.pod.pid) - a) / IDLE_S
    }
    for (let t = 0; t < TRIALS; t++) for (const h of hubs) await trial(h, `public:fan-${hubs.indexOf(h)}-${t}`)
    console.log(`\n## summary (${loadNote()})`)
    const median = (xs: number[]) =>
      percentile(
        [...xs].sort((a, b) => a - b),
        50,
      )
    for (const h of hubs) {
      row(
        `${h.name}: hub CPU per write, median`,
        `${fmt(median(h.cpu) * 1000, 1)} ms`,
        `${fmt((median(h.cpu) / SPOKES) * 1e6, 0)} µs per spoke; idle ${fmt(h.idleRate * 100, 2)} % subtracted`,
      )
      row(`${h.name}: every spoke has it, median`, `${fmt(median(h.every), 0)} ms`, `max ${fmt(Math.max(...h.every), 0)} ms`)
      row(
        `${h.name}: the write answered 201, median`,
        `${fmt(median(h.acked), 1)} ms`,
        `max ${fmt(Math.max(...h.acked), 1)} ms (the fan-out follows the commit)`,
      )
    }
    if (hubs.length === 2) {
      row('this tree / BASE, CPU per write', `${fmt(median(hubs[0]!.cpu) / median(hubs[1]!.cpu), 2)}x`)
      row('this tree / BASE, every spoke has it', `${fmt(median(hubs[0]!.every) / median(hubs[1]!.every), 2)}x`)
    }
  } finally {
    for (const h of hubs) for (const c of h.children) c.send(JSON.stringify({ op: 'stop' }))
    await Promise.all(hubs.flatMap((h) => h.children.map((c) => c.next().catch(() => undefined))))
    await Promise.all(hubs.flatMap((h) => h.children.map((c) => c.stop())))
    for (const h of hubs) {
      await h.pod.stop().catch(() => undefined)
      rmSync(h.pod.home, { recursive: true, force: true })
    }
    rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[2] === CHILD_FLAG) await spokesChild(process.argv[3]!)
else await main()
