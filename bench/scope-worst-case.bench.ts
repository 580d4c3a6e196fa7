/**
 * Worst-case scope (issue 8 "Measure"): a paired peer reads the whole feed of a pod holding N
 * shareable memories with long (256-char) labels, once with scope `public:*` (the baseline) and
 * once with the largest adversarial scope the contract allows: 15 globs of 128 chars built to
 * make a matcher work hardest (head and tail pass, a `?`-heavy middle fails at its last char)
 * followed by `public:*`, so both reads return exactly the same memories and only matching
 * differs. Real pod process, signed /peer/sync pages of 1,000. Printed: wall time and the pod's
 * CPU seconds per read, the longest /healthz wait during each read, and worst / baseline.
 * Target: ≤ 2x. Also, in process, the matcher alone over the same labels.
 *
 *   npx bun bench/scope-worst-case.bench.ts           # N=100000
 *   N=10000 npx bun bench/scope-worst-case.bench.ts   # smoke run
 */
import { rmSync } from 'node:fs'
import { pullPage } from '../src/sync/peer-client'
import { scopeMatcher } from '../src/lib/glob'
import type { PodId, PublicKey } from '../src/identity'
import { spawnPod, tempHome } from '../test/helpers/pod-process'
import { fmt, row } from './_util'
import { addPeer, cpuSeconds, envInt, fillHome, identityOf, loadNote, openBenchHome } from './_fed-util'

const N = envInt('N', 100_000)
const PAGE = 1000
const TARGET_RATIO = 2
const ROUNDS = 2

/** 256 chars: `public:` + 243 × `a` + a 6-digit number (long, repetitive: the hardest labels for `?` runs). */
const label = (i: number) => `public:${'a'.repeat(243)}${String(i).padStart(6, '0')}`
const WILD = 'public:*' + '?a'.repeat(58) + '?#' + '*?'
const WORST = [...Array(15).fill(WILD), 'public:*']
const BASE = ['public:*']

async function main() {
  if (WILD.length !== 128 || label(0).length !== 256) throw new Error('bench shapes drifted')
  console.log(`# worst-case scope: ${N} shareable memories with 256-char labels; pages of ${PAGE} (Bun ${Bun.version}; ${loadNote()})`)
  const home = tempHome('mzm-bench-scope-')
  const callerHome = tempHome('mzm-bench-caller-')
  const t0 = performance.now()
  await fillHome(home, { publicN: N, privateN: 0 }, { label: (i) => label(i) })
  console.log(`  (filled in ${fmt((performance.now() - t0) / 1000)} s)`)
  const caller = await openBenchHome(callerHome)
  const pod = await spawnPod({ home })
  try {
    const id = await identityOf(pod)
    await addPeer(pod, caller.identity.handshakeUrl(), { sync: false })
    const pairKey = await caller.identity.pairKey(id.pod_id as PodId, id.key as PublicKey)

    /** Reads the whole feed with `scope`; probes /healthz every 20 ms meanwhile. */
    async function readAll(scope: string[]) {
      let done = false
      let maxWait = 0
      const probing = (async () => {
        while (!done) {
          const t = performance.now()
          await fetch(`${pod.url}/healthz`)
          maxWait = Math.max(maxWait, performance.now() - t)
          await Bun.sleep(20)
        }
      })()
      const cpu0 = cpuSeconds(pod.pid)
      const t = performance.now()
      let since: string | null = null
      let served = 0
      for (;;) {
        const page = await pullPage({ baseUrl: pod.url, pairKey, selfId: caller.identity.podId, peerId: id.pod_id as PodId, since, scope, limit: PAGE, nowMs: Date.now() })
        served += page.memories.filter((m) => !('deleted' in m)).length
        if (!page.more) break
        since = page.cursor
      }
      const s = (performance.now() - t) / 1000
      done = true
      await probing
      return { s, cpu: cpuSeconds(pod.pid) - cpu0, served, maxWait }
    }

    const best = { base: { s: Infinity, cpu: Infinity, served: 0, maxWait: 0 }, worst: { s: Infinity, cpu: Infinity, served: 0, maxWait: 0 } }
    for (let r = 0; r < ROUNDS; r++) {
      for (const [k, scope] of [['base', BASE], ['worst', WORST]] as const) {
        const m = await readAll(scope)
        if (m.served !== N) throw new Error(`${k} read served ${m.served}, expected ${N}`)
        if (m.s < best[k].s) best[k] = { ...m, maxWait: Math.max(m.maxWait, best[k].maxWait) }
        else best[k].maxWait = Math.max(best[k].maxWait, m.maxWait)
      }
    }
    console.log('\n## pod: whole feed over signed /peer/sync (faster of 2 reads each)')
    row('baseline scope public:*: wall / pod CPU', `${fmt(best.base.s, 2)} / ${fmt(best.base.cpu, 2)} s`, `longest /healthz wait ${fmt(best.base.maxWait, 0)} ms`)
    row('worst scope (16 × 128 chars): wall / pod CPU', `${fmt(best.worst.s, 2)} / ${fmt(best.worst.cpu, 2)} s`, `longest /healthz wait ${fmt(best.worst.maxWait, 0)} ms`)
    const ratio = best.worst.s / best.base.s
    row('ratio worst / baseline (wall)', `${fmt(ratio, 2)}x`, `target ≤ ${TARGET_RATIO}x: ${ratio <= TARGET_RATIO ? 'MET' : 'NOT MET'}`)
    row('ratio worst / baseline (pod CPU)', `${fmt(best.worst.cpu / best.base.cpu, 2)}x`, '')
  } finally {
    await pod.stop()
    rmSync(home, { recursive: true, force: true })
    rmSync(callerHome, { recursive: true, force: true })
  }

  // The matcher alone, in process, over the same labels.
  const labels = Array.from({ length: N }, (_, i) => label(i))
  const time = (scope: string[]) => {
    const m = scopeMatcher(scope)
    const t = performance.now()
    let hits = 0
    for (const l of labels) if (m(l)) hits++
    if (hits !== N) throw new Error('matcher disagrees')
    return (performance.now() - t) / 1000
  }
  time(BASE)
  time(WORST)
  const mb = Math.min(time(BASE), time(BASE))
  const mw = Math.min(time(WORST), time(WORST))
  console.log('\n## matcher alone (in process)')
  row('public:* over N labels', `${fmt(mb * 1000, 1)} ms`, '')
  row('worst scope over N labels', `${fmt(mw * 1000, 1)} ms`, `${fmt(mw / mb, 0)}x the baseline; ${fmt((mw * 1e6) / N, 1)} µs per label`)
  console.log(`\n(${loadNote()})`)
}

await main()
