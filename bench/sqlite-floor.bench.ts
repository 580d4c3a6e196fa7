/**
 * How much of Deno's slower pull is its SQLite itself. The same 100k copies go into a fresh
 * pod.db under Bun (bun:sqlite) and under Deno (node:sqlite), in pages of 1,000 with their
 * full-text rows, two ways (bench/_sqlite-floor-child.ts): made by SQLite from a recursive CTE,
 * so no value crosses from JavaScript, and bound from JavaScript in 64-row INSERTs as a pull
 * binds them. The first ratio is the runtimes' SQLite builds alone: a floor no change to our
 * code can take Deno's pull below. The second adds the binding.
 *
 * Rounds alternate the runtimes in fresh processes; the minimum counts (load only adds CPU).
 *
 *   npx bun bench/sqlite-floor.bench.ts
 *   ROUNDS=9 ROWS=100000 npx bun bench/sqlite-floor.bench.ts
 */
import { join, resolve } from 'node:path'
import { DENO } from '../test/helpers/pod-process'
import { envInt, loadNote } from './_fed-util'
import { fmt, row } from './_util'

const ROWS = envInt('ROWS', 100_000)
const ROUNDS = envInt('ROUNDS', 5)
const ROOT = resolve(import.meta.dir, '..')
const CHILD = join(import.meta.dir, '_sqlite-floor-child.ts')
const MODES = ['sql', 'bound'] as const
const RUNTIMES = ['bun', 'deno'] as const

async function measure(runtime: (typeof RUNTIMES)[number], mode: (typeof MODES)[number]): Promise<number> {
  const cmd =
    runtime === 'bun' ? [process.execPath, CHILD, mode, String(ROWS)] : [DENO, 'run', '-A', '--config', join(ROOT, 'deno.json'), CHILD, mode, String(ROWS)]
  const proc = Bun.spawn(cmd, { cwd: ROOT, stdout: 'pipe', stderr: 'inherit' })
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited])
  if (code !== 0) throw new Error(`${cmd.join(' ')} exited ${code}`)
  return (JSON.parse(out.trim().split('\n').at(-1)!) as { cpuS: number }).cpuS
}

console.log(`# SQLite under Bun and Deno: ${ROWS} copies in pages of 1,000 with their full-text rows (${ROUNDS} rounds; ${loadNote()})`)
const runs = new Map<string, number[]>()
for (let round = 0; round < ROUNDS; round++) {
  for (const mode of MODES) {
    for (const runtime of RUNTIMES) {
      const key = `${runtime} ${mode}`
      runs.set(key, [...(runs.get(key) ?? []), await measure(runtime, mode)])
    }
  }
  process.stdout.write(`  round ${round + 1}/${ROUNDS}\r`)
}
const min = (key: string) => Math.min(...runs.get(key)!)
const median = (key: string) => {
  const s = [...runs.get(key)!].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}
console.log('\n## CPU seconds (min / median)')
for (const mode of MODES) {
  const what = mode === 'sql' ? 'rows made by SQLite (no bindings)' : 'rows bound from JavaScript'
  for (const runtime of RUNTIMES) row(`${runtime}: ${what}`, `${fmt(min(`${runtime} ${mode}`), 3)} / ${fmt(median(`${runtime} ${mode}`), 3)} s`)
  row(`  deno / bun`, `${fmt(min(`deno ${mode}`) / min(`bun ${mode}`), 2)}x`, `median ${fmt(median(`deno ${mode}`) / median(`bun ${mode}`), 2)}x`)
}
const bindingS = (runtime: string) => min(`${runtime} bound`) - min(`${runtime} sql`)
row('binding, from JavaScript (bound - sql, min)', `bun ${fmt(bindingS('bun'), 3)} s, deno ${fmt(bindingS('deno'), 3)} s`)
