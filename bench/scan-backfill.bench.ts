/**
 * The one-time credential scan of memories no scan has read (src/store/scan-backfill.ts): what a
 * pod upgraded from before the scanner, or one whose memories came in by a path that does not
 * scan, spends on it in its first minutes of serving. A home of N public + N private memories,
 * all unscanned; a pod starts on a copy of it and is timed until it logs that every memory has
 * been scanned, with its CPU seconds, under each runtime (RUNTIME=bun|deno|both, default both).
 * BASE=<another checkout with node_modules> runs that tree's pod beside this one's on the same home.
 *
 *   npx bun bench/scan-backfill.bench.ts
 *   BASE=/work/wt/base N=100000 npx bun bench/scan-backfill.bench.ts
 */
import { Database } from 'bun:sqlite'
import { cpSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { DENO, MAIN, spawnPod, tempHome } from '../test/helpers/pod-process'
import { cpuSeconds, envInt, fillHome, loadNote } from './_fed-util'
import { benchRuntimes, fmt, row } from './_util'

const N = envInt('N', 100_000)
const BASE = process.env.BASE
/** A pod still scanning after this long is reported as such, not waited for. */
const LIMIT_MS = 300_000
const DONE = /every memory has been scanned/

const home = tempHome('mzm-scan-backfill-')
const homes = [home]
try {
  console.log(`# credential backfill: ${N} public + ${N} private memories, none scanned yet (${loadNote()})`)
  await fillHome(home, { publicN: N, privateN: N })
  // The fill marks its rows scanned, as a pod's own writes leave them; these are from before the scanner.
  const db = new Database(join(home, 'pod.db'))
  db.exec('UPDATE memories SET scanned = 0')
  db.close()
  const trees = [{ name: 'this tree', main: MAIN }, ...(BASE ? [{ name: `base (${BASE})`, main: join(resolve(BASE), 'src', 'main.ts') }] : [])]
  console.log('\n## until the pod logs that every memory has been scanned')
  for (const tree of trees) {
    for (const runtime of benchRuntimes()) {
      const copy = tempHome('mzm-scan-backfill-')
      homes.push(copy)
      cpSync(home, copy, { recursive: true })
      const command = runtime === 'bun' ? [process.execPath, tree.main] : [DENO, 'run', '-A', tree.main]
      const started = performance.now()
      const pod = await spawnPod({ home: copy, command, runtime })
      try {
        while (!DONE.test(pod.logs()) && performance.now() - started < LIMIT_MS) await Bun.sleep(50)
        const s = (performance.now() - started) / 1000
        const what = DONE.test(pod.logs()) ? `${fmt(s, 2)} s` : `still scanning after ${fmt(s, 0)} s`
        row(`${tree.name}, ${runtime}`, what, `${fmt(cpuSeconds(pod.pid), 2)} CPU s (start included); ${fmt(N / s, 0)} memories/s`)
      } finally {
        await pod.stop()
      }
    }
  }
} finally {
  for (const h of homes) rmSync(h, { recursive: true, force: true })
}
