/**
 * The cost of one idle long-poll cycle at a hub, in seconds rather
 * than the full 2,000-spoke run of live.bench.ts: a real hub pod process trusts SPOKES peers, and
 * a child process drives them, each re-asking at once in a loop with the production pull code
 * (pullPage: sealed, signed, `since` = the hub's current cursor, so every delta is empty). The
 * hub's CPU (utime + stime from /proc/<pid>/stat) over the window, minus its idle rate measured
 * just before (same process, nothing asked), divided by the answers received, is the hub's CPU
 * per request-answer cycle: verify the Bearer, record the nonce, open, decode, page query, hold,
 * answer sealed and signed.
 *
 *   WAIT=1   each request is held 1 s and answered empty at its deadline (the idle hub's cycle)
 *   WAIT=0   answered at once (the same request without the hold, to separate the two)
 *   WAIT=45-50 SPOKES=2000   the idle hub itself, as live.bench.ts's idle window sees it (each
 *            wait drawn per request like the puller's), without that bench's latency phases
 *   SPREAD=1   each spoke's first long-poll starts at a random moment within the longest wait,
 *            as for peers that came online at different times (otherwise all start together and
 *            their deadlines stay bunched on whole seconds, which a hub answers in batches)
 *   BASE=<checkout>   a second hub from that checkout's src/main.ts (e.g. a `git archive main`
 *            export with node_modules linked), measured in the same windows: on a shared
 *            machine only a paired run compares two versions fairly, since load moves CPU
 *            per cycle by ±30 % between runs
 *
 * SPOKES stays at or below 64 by default: Bun's fetch keeps at most 64 idle keep-alive sockets
 * per host, so more concurrent loops in one process also measure TCP reconnects, which spokes
 * (one process each, re-asking one at a time) do not pay.
 *
 *   npx bun bench/live-cycle.bench.ts
 *   SPOKES=60 WAIT=1 SECONDS=30 ROUNDS=3 BASE=/tmp/base npx bun bench/live-cycle.bench.ts
 *   SPOKES=2000 WAIT=45-50 SECONDS=60 BASE=/tmp/base npx bun bench/live-cycle.bench.ts
 *   POD_PROF=/tmp/prof npx bun bench/live-cycle.bench.ts   # hub under bun --cpu-prof-md, written at its exit
 *   POD_PROF=/tmp/prof POD_PROF_FORMAT=json …              # a .cpuprofile instead: npx bun bench/profile-top.ts <file>
 */
import { readFileSync, rmSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openHome, type PodHome, type PodId, type PublicKey } from '../src/identity'
import { memoryLogger } from '../src/lib/log'
import { pullPage } from '../src/sync/peer-client'
import { tempHome, type PodProcess } from '../test/helpers/pod-process'
import { fmt, row } from './_util'
import { announce, startHubWithSpokes, envInt, loadNote, podCommand, stdinLines, type Child } from './_fed-util'

const CHILD_FLAG = '--child=cycle-spokes'
const SPOKES = envInt('SPOKES', 60)
/** `1`, or a range `45-50` (a whole number of seconds drawn per request, as the puller does). */
const WAIT = waitRange(process.env.WAIT ?? '1')
/** Spoke processes per hub: Bun's fetch runs at most 256 requests at once per process. */
const CHILDREN = Math.max(1, envInt('CHILDREN', Math.ceil(SPOKES / 250)))
const SECONDS = envInt('SECONDS', 30)
const ROUNDS = Math.max(1, envInt('ROUNDS', 1))
const IDLE_S = envInt('IDLE_S', 10)
const WARMUP_S = envInt('WARMUP_S', 5)
const BASE = process.env.BASE ?? ''
const SPREAD = process.env.SPREAD === '1'
/** What an idle hub with 2,000 spokes answers per second: each re-asks once per 45–50 s wait (liveWaitS). */
const HUB_RATE = 2000 / 47.5

/** Child: SPOKES homes that, once told, re-ask `hub` in a loop; reports answers on demand. */
async function spokesChild(configFile: string): Promise<void> {
  const cfg = JSON.parse(readFileSync(configFile, 'utf8')) as {
    count: number
    wait: [number, number]
    spread: boolean
    hub: { id: PodId; key: PublicKey; url: string }
  }
  const homes: PodHome[] = []
  for (let i = 0; i < cfg.count; i++) homes.push(await openHome(tempHome('mzm-cycle-spoke-'), { log: memoryLogger() }))
  await announce({ spokes: homes.map((h) => ({ id: h.identity.podId, key: h.identity.publicKey })) })
  let answers = 0
  let failures = 0
  let firstFailure = ''
  let stop = false
  let loops: Promise<void>[] = []
  for await (const line of stdinLines()) {
    const cmd = JSON.parse(line) as { op: 'start' | 'count' | 'stop' }
    if (cmd.op === 'start') {
      loops = homes.map(async (h) => {
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
          })
        let since = (await ask(null, 0)).cursor
        if (cfg.spread) await Bun.sleep(Math.random() * cfg.wait[1] * 1000)
        while (!stop) {
          try {
            const page = await ask(since, cfg.wait[0] + Math.floor(Math.random() * (cfg.wait[1] - cfg.wait[0] + 1)))
            if (page.memories.length !== 0) throw new Error('the idle cycle got a non-empty page')
            since = page.cursor
            answers++
          } catch (err) {
            if (failures++ === 0) firstFailure = (err as Error).message
            await Bun.sleep(100)
          }
        }
      })
      await announce({ started: true })
    } else if (cmd.op === 'count') {
      await announce({ answers, failures, firstFailure })
    } else {
      stop = true
      await Promise.all(loops)
      for (const h of homes) rmSync(h.paths.root, { recursive: true, force: true })
      await announce({ stopped: true })
      process.exit(0)
    }
  }
}

interface Hub {
  name: string
  pod: PodProcess
  children: Child[]
}

async function startHub(name: string, command: string[] | undefined, dir: string, index: number): Promise<Hub> {
  const { pod, children } = await startHubWithSpokes({
    homePrefix: 'mzm-cycle-hub-',
    seedLabel: 'cycle',
    command,
    script: import.meta.path,
    flag: CHILD_FLAG,
    dir,
    hubIndex: index,
    spokes: SPOKES,
    children: CHILDREN,
    config: { wait: WAIT, spread: SPREAD },
  })
  return { name, pod, children }
}

/** Sends `op` to every spoke process of every hub and collects their answers, per hub. */
async function all(hubs: Hub[], op: string): Promise<any[][]> {
  for (const h of hubs) for (const c of h.children) c.send(JSON.stringify({ op }))
  return Promise.all(hubs.map((h) => Promise.all(h.children.map((c) => c.next()))))
}

async function counts(hubs: Hub[]): Promise<{ answers: number; failures: number; firstFailure: string }[]> {
  return (await all(hubs, 'count')).map((per) => ({
    answers: per.reduce((s, x) => s + x.answers, 0),
    failures: per.reduce((s, x) => s + x.failures, 0),
    firstFailure: per.find((x) => x.firstFailure)?.firstFailure ?? '',
  }))
}

async function main(): Promise<void> {
  console.log(
    `# hub CPU per long-poll cycle: ${SPOKES} spokes in ${CHILDREN} processes re-asking in a loop, wait ${WAIT.join('-')} s${SPREAD ? ', phases spread' : ''} (Bun ${Bun.version}; ${loadNote()})`,
  )
  const dir = mkdtempSync(join(tmpdir(), 'mzm-cycle-bench-'))
  const hubs: Hub[] = []
  try {
    hubs.push(await startHub('this tree', podCommand(), dir, 0))
    if (BASE) hubs.push(await startHub(`BASE ${BASE}`, [process.execPath, join(BASE, 'src', 'main.ts')], dir, 1))

    // Each hub's own idle rate (nothing asked), subtracted below: it is not the cycle's.
    await Bun.sleep(WARMUP_S * 1000)
    const idle = await windows(hubs, IDLE_S)
    await all(hubs, 'start')
    // Long waits: every spoke's first long-poll is held and the hub is in its steady state.
    await Bun.sleep((WARMUP_S + (WAIT[1] > 1 ? WAIT[1] : 0) * (SPREAD ? 2 : 1)) * 1000)

    const perCycle: number[][] = hubs.map(() => [])
    for (let r = 0; r < ROUNDS; r++) {
      const before = await counts(hubs)
      const busy = await windows(hubs, SECONDS)
      const after = await counts(hubs)
      console.log(`\n## round ${r + 1} (${loadNote()})`)
      for (const [i, h] of hubs.entries()) {
        const n = Math.max(1, after[i]!.answers - before[i]!.answers)
        const b = busy[i]!
        const net = b.cpu - (idle[i]!.cpu / idle[i]!.s) * b.s
        perCycle[i]!.push(net / n)
        const failed = after[i]!.failures ? `, ${after[i]!.failures} failures (first: ${after[i]!.firstFailure})` : ''
        row(`${h.name}: cycles`, `${n} in ${fmt(b.s, 1)} s`, `${fmt(n / b.s, 1)} per s${failed}`)
        row(`${h.name}: CPU while answering`, `${fmt((b.cpu / b.s) * 100, 2)} % of one core`, `user ${fmt(b.user, 2)} s, system ${fmt(b.system, 2)} s`)
        row(`${h.name}: CPU per cycle`, `${fmt((net / n) * 1e6, 0)} µs`, `idle rate subtracted (${fmt((b.cpu / n) * 1e6, 0)} µs with it)`)
      }
    }
    console.log('\n## summary')
    for (const [i, h] of hubs.entries()) {
      const idleRate = idle[i]!.cpu / idle[i]!.s
      const mean = perCycle[i]!.reduce((s, x) => s + x, 0) / perCycle[i]!.length
      row(`${h.name}: idle (nothing asked)`, `${fmt(idleRate * 100, 2)} % of one core`, `over ${fmt(idle[i]!.s, 0)} s`)
      row(`${h.name}: CPU per cycle, mean of ${ROUNDS}`, `${fmt(mean * 1e6, 0)} µs`, perCycle[i]!.map((x) => fmt(x * 1e6, 0)).join(' / '))
      row(
        `  → 2,000 spokes (${fmt(HUB_RATE, 0)} cycles/s) + idle`,
        `${fmt((mean * HUB_RATE + idleRate) * 100, 2)} % of one core`,
        'estimate; live.bench.ts measures it',
      )
    }
    if (hubs.length === 2) {
      const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length
      row('this tree / BASE per cycle', `${fmt(mean(perCycle[0]!) / mean(perCycle[1]!), 2)}x`)
    }
    console.log(`\n(${loadNote()})`)
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

/** Each process's CPU (seconds, user and system) over the same next `seconds`. */
async function windows(hubs: Hub[], seconds: number): Promise<{ cpu: number; user: number; system: number; s: number }[]> {
  const a = hubs.map((h) => userSystem(h.pod.pid))
  const t = performance.now()
  await Bun.sleep(seconds * 1000)
  const b = hubs.map((h) => userSystem(h.pod.pid))
  const s = (performance.now() - t) / 1000
  return hubs.map((_, i) => {
    const user = b[i]!.user - a[i]!.user
    const system = b[i]!.system - a[i]!.system
    return { cpu: user + system, user, system, s }
  })
}

function waitRange(text: string): [number, number] {
  const m = /^(\d{1,2})(?:-(\d{1,2}))?$/.exec(text)
  const lo = Number(m?.[1])
  const hi = Number(m?.[2] ?? m?.[1])
  if (!m || hi < lo || hi > 50) throw new Error(`WAIT must be seconds (0..50) or a range like 45-50, got ${text}`)
  return [lo, hi]
}

/** utime and stime (seconds) of a process, from /proc/<pid>/stat (USER_HZ 100). */
function userSystem(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // After the `(comm)` field, which may itself hold spaces: utime is field 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 }
}

if (process.argv[2] === CHILD_FLAG) await spokesChild(process.argv[3]!)
else await main()
