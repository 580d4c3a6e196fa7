/**
 * A soak of ordinary work with a few forgets in it: does a forget reach a live peer as fast as a
 * write does? Two pod processes, B pulling A live (MAZEMAKER_LIVE_WAIT=50). For SOAK_S seconds A
 * takes RATE writes a second; every 50th write is instead a forget of the memory written 25
 * writes earlier (far below the mass-change guard's threshold: half of B's copies).
 *
 * Measured at B, per event, from the moment A answered: a write until its copy is there, a forget
 * until its copy is gone (B polled every POLL_MS on that one label, cap SETTLE_S after the soak).
 * The write latency is the baseline of the same run; the forget latency is given as a ratio to it.
 * At the end of the soak: how many forgotten memories B still shows (staged, not yet applied).
 *
 *   npx bun bench/forget-soak.bench.ts                      # this checkout's binary, 120 s
 *   BEFORE=<commit> npx bun bench/forget-soak.bench.ts      # that commit's binary first, then this one
 *   SOAK_S=20 npx bun bench/forget-soak.bench.ts            # smoke run
 *
 * Wall time is the quantity here (how long a forgotten memory stays readable at the peer); the
 * machine's load is printed with the results.
 */
import { oldBinary } from '../test/helpers/old-build'
import { type PodProcess, spawnPod } from '../test/helpers/pod-process'
import { addPeer, envInt, identityOf, loadNote } from './_fed-util'
import { fmt, percentile, row } from './_util'

const SOAK_S = envInt('SOAK_S', 120)
const RATE = envInt('RATE', 19)
const FORGET_EVERY = 50
const POLL_MS = envInt('POLL_MS', 20)
const SETTLE_S = envInt('SETTLE_S', 90)
const LIVE = { MAZEMAKER_LIVE_WAIT: '50' }

const label = (i: number) => `public:soak-${String(i).padStart(6, '0')}`

/** Whether B holds A's copy of `label` (an exact label: all soak labels have the same length). */
async function present(b: PodProcess, aId: string, l: string): Promise<boolean> {
  const res = await b.api('GET', `/memories?prefix=${encodeURIComponent(`peer:${aId}:${l}`)}&limit=1`)
  if (res.status !== 200) throw new Error(`GET /memories at B → ${res.status}`)
  return res.body.memories.length > 0
}

/** Resolves with the ms from `since` until `present` equals `want`, or null past `deadline`. */
async function until(b: PodProcess, aId: string, l: string, want: boolean, since: number, deadline: () => number): Promise<number | null> {
  for (;;) {
    if ((await present(b, aId, l)) === want) return performance.now() - since
    if (performance.now() > deadline()) return null
    await Bun.sleep(POLL_MS)
  }
}

interface SoakResult {
  writes: number
  writeLag: number[]
  forgets: number
  forgetLag: (number | null)[]
  stagedAtEnd: number
}

async function soak(name: string, command: string[] | undefined): Promise<SoakResult> {
  await using a = await spawnPod({ env: LIVE, ...(command ? { command } : {}) })
  await using b = await spawnPod({ env: LIVE, ...(command ? { command } : {}) })
  const idA = await identityOf(a)
  const idB = await identityOf(b)
  await addPeer(a, idB.handshake_url, { direct_url: b.url, sync: false })
  await addPeer(b, idA.handshake_url, { direct_url: a.url, sync: true })
  // A first write that B holds: the live pull is running.
  const first = await a.api('POST', '/memories', { label: 'public:soak-start', content: 'start' })
  if (first.status !== 201) throw new Error(`POST /memories at A → ${first.status}`)
  const t0 = performance.now()
  if ((await until(b, idA.pod_id, 'public:soak-start', true, t0, () => t0 + 60_000)) === null) throw new Error('B never pulled A')

  const ids: string[] = []
  const forgotten: string[] = []
  const watches: Promise<void>[] = []
  const writeLag: number[] = []
  const forgetLag: (number | null)[] = []
  let soakEnd = Number.POSITIVE_INFINITY
  const settleBy = () => soakEnd + SETTLE_S * 1000
  const start = performance.now()
  const total = SOAK_S * RATE
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / RATE
    const wait = due - performance.now()
    if (wait > 0) await Bun.sleep(wait)
    if (i % FORGET_EVERY === FORGET_EVERY - 1) {
      const n = i - 25
      const res = await a.api('DELETE', `/memories/${ids[n]}`)
      if (res.status !== 204) throw new Error(`DELETE at A → ${res.status}`)
      const at = performance.now()
      forgotten.push(label(n))
      watches.push(until(b, idA.pod_id, label(n), false, at, settleBy).then((ms) => void forgetLag.push(ms)))
      ids.push('')
    } else {
      const res = await a.api('POST', '/memories', { label: label(i), content: `soak write ${i}` })
      if (res.status !== 201) throw new Error(`POST /memories at A → ${res.status}`)
      const at = performance.now()
      ids.push(res.body.id)
      // Every 50th write is watched (the baseline), not all: polling must not be the load.
      if (i % FORGET_EVERY === 0) watches.push(until(b, idA.pod_id, label(i), true, at, settleBy).then((ms) => void writeLag.push(ms ?? Number.NaN)))
    }
  }
  soakEnd = performance.now()
  let stagedAtEnd = 0
  for (const l of forgotten) if (await present(b, idA.pod_id, l)) stagedAtEnd++
  await Promise.all(watches)
  const peer = (await b.api('GET', '/peer/peers')).body.peers.find((p: { id: string }) => p.id === idA.pod_id)
  console.log(`${name}: B's peer A at the end: status ${peer?.status}`)
  return { writes: total - forgotten.length, writeLag, forgets: forgotten.length, forgetLag, stagedAtEnd }
}

function report(name: string, r: SoakResult): void {
  const w = [...r.writeLag].sort((x, y) => x - y)
  const settled = r.forgetLag.filter((x): x is number => x !== null).sort((x, y) => x - y)
  const never = r.forgetLag.length - settled.length
  row(`${name}: write → copy at B (every 50th)`, `p50 ${fmt(percentile(w, 50), 1)} ms`, `p99 ${fmt(percentile(w, 99), 1)} ms, n=${w.length}`)
  row(
    `${name}: forget → copy gone at B`,
    settled.length ? `p50 ${fmt(percentile(settled, 50), 1)} ms` : 'none settled',
    `p99 ${fmt(percentile(settled, 99), 1)} ms, max ${fmt(settled[settled.length - 1] ?? Number.NaN, 1)} ms, n=${r.forgets}; not gone ${SETTLE_S} s after the soak: ${never}; p50 ratio to a write ${fmt(percentile(settled, 50) / percentile(w, 50), 2)}x`,
  )
  row(`${name}: forgotten but still at B when the soak ended`, `${r.stagedAtEnd} of ${r.forgets}`, `(${r.writes} writes)`)
}

async function main(): Promise<void> {
  console.log(`# forget soak: ${SOAK_S} s at ${RATE} writes/s at A, a forget every ${FORGET_EVERY}, B live (Bun ${Bun.version}; ${loadNote()})`)
  const before = process.env.BEFORE
  if (before) report(`before (${before.slice(0, 7)})`, await soak('before', [oldBinary(before)]))
  report('this build', await soak('this build', undefined))
  console.log(`(${loadNote()} at the end)`)
}

await main()
