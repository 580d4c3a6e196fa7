/**
 * `mazemaker import` of a JSON Lines export (half private, half public so the scanner and the
 * vault both work), into a fresh pod, by the build in this checkout and, beside it in the same
 * run, by an older build (IMPORT_BASE=<another checkout of the repository, with node_modules>).
 * For each: lines/s (wall, and per CPU-second of CLI + pod: the machine is shared, CPU is the
 * steadier number), peak RSS of the CLI and of the pod (both read from /proc), and the ratios after/before.
 * Run: IMPORT_BASE=../old npx bun bench/import.bench.ts   Scale: IMPORT_N=1000000 (default 100000)
 * POD_PROF=<dir> (and POD_PROF_FORMAT=json): this tree's pod under Bun's sampling profiler.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { spawnPod, testEnv } from '../test/helpers/pod-process'
import { cpuSeconds, envInt, loadNote, profilerFlags, resetPeakRss, sentence } from './_fed-util'
import { fmt, peakRssMb, row } from './_util'

const N = envInt('IMPORT_N', 100_000)
const BASE = process.env.IMPORT_BASE
const HERE = resolve(import.meta.dir, '..')

interface Run {
  wallS: number
  cliCpuS: number
  podCpuS: number
  cliPeakMb: number
  podPeakMb: number
  imported: number
}

/** N lines, every other one private, in a file (written in pieces: the bench itself holds little). */
function writeExport(path: string): void {
  const at = '2024-05-06T07:08:09.000Z'
  const chunk: string[] = []
  writeFileSync(path, '')
  for (let i = 0; i < N; i++) {
    const priv = i % 2 === 0
    chunk.push(JSON.stringify({ label: `${priv ? 'note' : 'public'}:bench-${i}`, content: sentence(i), private: priv, created_at: at, updated_at: at }))
    if (chunk.length === 10_000 || i === N - 1) {
      writeFileSync(path, chunk.join('\n') + '\n', { flag: 'a' })
      chunk.length = 0
    }
  }
}

/**
 * The CLI's own peak RSS, read from /proc while it runs (every 50 ms; VmHWM only grows). Not its
 * rusage maxRSS: a child spawned from this process is counted from this process's own RSS at the
 * spawn (the memory it shared before exec), which grows with the export written here.
 */
function watchPeakRss(pid: number): () => number {
  let peak = 0
  const read = () => {
    try {
      peak = Math.max(peak, peakRssMb(pid))
    } catch {
      // exited between two reads
    }
  }
  const timer = setInterval(read, 50)
  return () => {
    clearInterval(timer)
    return peak
  }
}

async function importWith(tree: string, file: string): Promise<Run> {
  const main = join(tree, 'src', 'main.ts')
  // POD_PROF=<dir>: this tree's pod under Bun's sampling profiler (see _fed-util's profilerFlags).
  const prof = tree === HERE && process.env.POD_PROF ? profilerFlags(process.env.POD_PROF) : []
  await using pod = await spawnPod({ command: [process.execPath, ...prof, main] })
  resetPeakRss(pod.pid)
  const podCpu0 = cpuSeconds(pod.pid)
  const started = performance.now()
  const cli = Bun.spawn([process.execPath, main, 'import', file, '--home', pod.home], {
    cwd: tree,
    env: testEnv({ MAZEMAKER_PROGRESS_MS: '60000' }),
    stdout: 'pipe',
    stderr: 'inherit',
  })
  const cliPeak = watchPeakRss(cli.pid)
  const [out, code] = await Promise.all([new Response(cli.stdout).text(), cli.exited])
  const wallS = (performance.now() - started) / 1000
  if (code !== 0) throw new Error(`import by ${tree} exited ${code}: ${out}`)
  const usage = cli.resourceUsage()!
  const imported = Number(/imported (\d+)/.exec(out)?.[1] ?? Number.NaN)
  return {
    wallS,
    cliCpuS: Number(usage.cpuTime.total) / 1e6,
    podCpuS: cpuSeconds(pod.pid) - podCpu0,
    cliPeakMb: cliPeak(),
    podPeakMb: peakRssMb(pod.pid),
    imported,
  }
}

function show(name: string, r: Run): void {
  const cpu = r.cliCpuS + r.podCpuS
  row(`${name}: lines/s (wall)`, fmt(N / r.wallS, 0), `${fmt(r.wallS, 1)} s for ${N} lines; ${r.imported} imported`)
  row(`${name}: lines per CPU-second`, fmt(N / cpu, 0), `CLI ${fmt(r.cliCpuS, 1)} s + pod ${fmt(r.podCpuS, 1)} s of CPU`)
  row(`${name}: peak RSS`, `CLI ${fmt(r.cliPeakMb, 0)} MB`, `pod ${fmt(r.podPeakMb, 0)} MB`)
}

const dir = mkdtempSync(join(tmpdir(), 'mzm-import-bench-'))
try {
  const file = join(dir, 'export.jsonl')
  writeExport(file)
  console.log(`import of ${N} JSON Lines (half private); ${loadNote()}`)
  const before = BASE ? await importWith(resolve(BASE), file) : null
  const after = await importWith(HERE, file)
  if (before) show('before', before)
  show('after', after)
  if (before) {
    const cpu = (r: Run) => r.cliCpuS + r.podCpuS
    row('after/before: lines/s (wall)', `${fmt(before.wallS / after.wallS, 1)}×`)
    row('after/before: lines per CPU-second', `${fmt(cpu(before) / cpu(after), 1)}×`)
    row('after/before: CLI peak RSS', `${fmt(after.cliPeakMb / before.cliPeakMb, 2)}×`)
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
