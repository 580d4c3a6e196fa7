/**
 * A hub's live peer list: what one peer's status change costs while operators have the panel
 * open. Two pods with PEERS peers each (none with a URL, so no pull runs and the hub is quiet),
 * this checkout's and BASE_SRC's (another checkout, e.g. a worktree of the commit before the
 * change), both run from source under this Bun. PANELS event streams (GET /events) are open to
 * each; the bench pauses or resumes one peer at a time (PATCH /peer/peers/:id, as the panel's
 * Pause does) and waits until every stream has the frame that tells it, CHANGES times, alternating
 * pods so load falls on both alike. The same changes are first made with no stream open: the
 * PATCH alone (it rewrites peers.toml), so the streams' share is the difference. It reports the
 * bytes of that frame per stream, the pod's CPU (user + system from /proc, so a loaded machine
 * moves it far less than the wall clock) per change, and the CPU of a GET /status, which says
 * the summary line.
 *
 *   BASE_SRC=/path/to/older/checkout npx bun bench/peer-events.bench.ts   # PEERS=2000 PANELS=3 CHANGES=60
 *   npx bun bench/peer-events.bench.ts                                    # this checkout alone
 */
import { join } from 'node:path'
import { writeHubPeers } from '../test/helpers/hub-peers'
import { identityOf } from '../test/helpers/federation'
import { cleanup, type PodProcess, spawnPod } from '../test/helpers/pod-process'
import { cpuSeconds, envInt, profilerFlags } from './_fed-util'

const PEERS = envInt('PEERS', 2000)
const PANELS = envInt('PANELS', 3)
/** Even: each peer paused is resumed by the next change. */
const CHANGES = envInt('CHANGES', 60) & ~1
const STATUS_CALLS = envInt('STATUS_CALLS', 40)
const BASE_SRC = process.env.BASE_SRC

interface Frame {
  event: string
  bytes: number
}

/** An open GET /events: the frames it has had so far, in order. */
function openEvents(pod: PodProcess) {
  const frames: Frame[] = []
  const waiting = new Set<() => void>()
  const ctl = new AbortController()
  void (async () => {
    const res = await fetch(`${pod.url}/events`, { headers: { authorization: `Bearer ${pod.token()}` }, signal: ctl.signal })
    const reader = res.body!.getReader()
    const dec = new TextDecoder()
    let buf = ''
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) return
        buf += dec.decode(value, { stream: true })
        let end: number
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, end)
          buf = buf.slice(end + 2)
          if (block.startsWith(':')) continue
          frames.push({ event: /^event: (.*)$/m.exec(block)![1]!, bytes: Buffer.byteLength(block) + 2 })
          for (const w of [...waiting]) w()
        }
      }
    } catch {
      /* closed */
    }
  })()
  return {
    frames,
    /** Resolves once the stream has more than `n` peer frames. */
    async peerFramesOver(n: number) {
      const count = () => frames.filter((f) => f.event.startsWith('peers')).length
      while (count() <= n) await new Promise<void>((r) => waiting.add(r)).finally(() => waiting.clear())
    },
    close: () => ctl.abort(),
  }
}

interface Side {
  name: string
  pod: PodProcess
  ids: string[]
  streams: ReturnType<typeof openEvents>[]
  /** CPU of the same changes with no stream open. */
  aloneCpuS: number
  cpuS: number
  frameBytes: number[]
  statusCpuS: number
}

async function side(name: string, src: string): Promise<Side> {
  // POD_PROF=<dir>: each pod under Bun's sampling profiler (a profile per pod when it exits; POD_PROF_FORMAT=json: .cpuprofile).
  const prof = process.env.POD_PROF ? profilerFlags(process.env.POD_PROF) : []
  const pod = await spawnPod({ command: [process.execPath, ...prof, join(src, 'src/main.ts')], env: { MAZEMAKER_LIVE_WAIT: '0' } })
  const ids = writeHubPeers(pod.home, (await identityOf(pod)).pod_id, PEERS, { pendingEvery: 1, pausedEvery: Number.MAX_SAFE_INTEGER }).map((p) => p.id)
  while ((await pod.api<{ peers: unknown[] }>('GET', '/peer/peers')).body.peers.length !== PEERS) await Bun.sleep(200)
  return { name, pod, ids, streams: [], aloneCpuS: 0, cpuS: 0, frameBytes: [], statusCpuS: 0 }
}

async function openStreams(s: Side): Promise<void> {
  s.streams = Array.from({ length: PANELS }, () => openEvents(s.pod))
  for (const st of s.streams) await st.peerFramesOver(0)
}

/** The same change with no stream open: the PATCH's own cost. */
async function changeAlone(s: Side, i: number): Promise<void> {
  const cpu0 = cpuSeconds(s.pod.pid)
  const res = await s.pod.api('PATCH', `/peer/peers/${s.ids[Math.floor(i / 2) % s.ids.length]}`, { sync: i % 2 === 1 })
  if (res.status !== 200) throw new Error(`${s.name}: PATCH → ${res.status}`)
  s.aloneCpuS += cpuSeconds(s.pod.pid) - cpu0
}

/** One status change: pause (or resume) peer `i`, until every stream has the frame that says so. */
async function change(s: Side, i: number): Promise<void> {
  const before = s.streams.map((st) => st.frames.filter((f) => f.event.startsWith('peers')).length)
  const cpu0 = cpuSeconds(s.pod.pid)
  const res = await s.pod.api('PATCH', `/peer/peers/${s.ids[Math.floor(i / 2) % s.ids.length]}`, { sync: i % 2 === 1 })
  if (res.status !== 200) throw new Error(`${s.name}: PATCH → ${res.status}`)
  await Promise.all(s.streams.map((st, k) => st.peerFramesOver(before[k]!)))
  s.cpuS += cpuSeconds(s.pod.pid) - cpu0
  for (const [k, st] of s.streams.entries()) s.frameBytes.push(st.frames.filter((f) => f.event.startsWith('peers'))[before[k]!]!.bytes)
}

const ms = (cpuS: number) => ((cpuS / CHANGES) * 1000).toFixed(2).padStart(7)
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN

const sides = [await side('this checkout', join(import.meta.dir, '..'))]
if (BASE_SRC) sides.push(await side('BASE_SRC', BASE_SRC))
try {
  // Change i pauses peer i/2 (even i) or resumes it (odd i): every change is a status change.
  for (let i = 0; i < 4; i++) for (const s of sides) await changeAlone(s, i) // warm-up
  for (const s of sides) s.aloneCpuS = 0
  for (let i = 0; i < CHANGES; i++) for (const s of sides) await changeAlone(s, i)
  for (const s of sides) await openStreams(s)
  for (let i = 0; i < CHANGES; i++) for (const s of sides) await change(s, i)
  for (let i = 0; i < STATUS_CALLS; i++) {
    for (const s of sides) {
      const cpu0 = cpuSeconds(s.pod.pid)
      if ((await s.pod.api('GET', '/status')).status !== 200) throw new Error(`${s.name}: GET /status failed`)
      s.statusCpuS += cpuSeconds(s.pod.pid) - cpu0
    }
  }
  console.log(`one peer's status change with ${PANELS} event streams open, ${PEERS} peers, ${CHANGES} changes (CPU from /proc, 10 ms ticks)`)
  for (const s of sides) {
    console.log(
      `${s.name.padEnd(14)} frame per stream ${String(median(s.frameBytes)).padStart(8)} B   pod CPU per change: no stream ${ms(s.aloneCpuS)} ms, ${PANELS} streams ${ms(s.cpuS)} ms (streams' share ${ms(s.cpuS - s.aloneCpuS)} ms)   GET /status CPU ${((s.statusCpuS / STATUS_CALLS) * 1000).toFixed(2).padStart(7)} ms`,
    )
  }
  if (sides.length === 2) {
    const [now, base] = sides as [Side, Side]
    console.log(
      `ratio BASE_SRC / this checkout: ${(median(base.frameBytes) / median(now.frameBytes)).toFixed(0)}x bytes per frame, ${(base.cpuS / now.cpuS).toFixed(1)}x CPU per change with ${PANELS} streams, ${((base.cpuS - base.aloneCpuS) / Math.max(now.cpuS - now.aloneCpuS, 0.01)).toFixed(1)}x the streams' share, ${(base.statusCpuS / Math.max(now.statusCpuS, 0.01)).toFixed(1)}x GET /status CPU`,
    )
  }
} finally {
  for (const s of sides) for (const st of s.streams) st.close()
  await cleanup(sides.map((s) => s.pod))
}
