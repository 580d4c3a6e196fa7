/**
 * What --minify and --bytecode cost or save in a compiled binary: the linux-x64 build with each
 * combination, one run, printed beside the release's choice (both on). Per variant: file size,
 * build wall time, and the CPU time of starting the binary (`mazemaker --version`, and a command
 * that loads the whole CLI: `mazemaker recall --help`), median of RUNS runs (CPU time, not wall:
 * the machine is shared).
 *
 *   npx bun bench/release-size.bench.ts
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compile } from '../build/bun-compile'
import { envInt, loadNote } from './_fed-util'
import { fmt, row } from './_util'

const RUNS = envInt('RUNS', 15)
const dir = mkdtempSync(join(tmpdir(), 'mzm-bench-size-'))

/** Median CPU seconds (user + system) of running `argv` RUNS times. */
function startCpu(argv: string[]): number {
  const times: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const r = Bun.spawnSync(argv, { stdout: 'ignore', stderr: 'ignore', env: { PATH: '/usr/bin:/bin', HOME: dir } })
    if (r.exitCode !== 0) throw new Error(`${argv.join(' ')} exited ${r.exitCode}`)
    const u = r.resourceUsage!
    times.push(Number(u.cpuTime.user + u.cpuTime.system) / 1e6)
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!
}

try {
  console.log(`linux-x64 build variants, ${RUNS} start runs each; ${loadNote()}`)
  const variants = [
    { name: 'minify + bytecode (release)', minify: true, bytecode: true },
    { name: 'minify only', minify: true, bytecode: false },
    { name: 'bytecode only', minify: false, bytecode: true },
    { name: 'neither', minify: false, bytecode: false },
  ]
  const results = variants.map((v) => {
    const outfile = join(dir, v.name.replace(/\W+/g, '-'))
    const ms = compile({ outfile, targetName: 'linux-x64', commit: 'bench', minify: v.minify, bytecode: v.bytecode })
    return { ...v, mb: statSync(outfile).size / 1024 / 1024, ms, version: startCpu([outfile, '--version']), help: startCpu([outfile, 'recall', '--help']) }
  })
  const base = results[0]!
  for (const r of results) {
    row(
      r.name,
      `${fmt(r.mb, 1)} MB`,
      `build ${fmt(r.ms / 1000, 1)} s · start CPU --version ${fmt(r.version * 1000, 0)} ms, recall --help ${fmt(r.help * 1000, 0)} ms`,
    )
  }
  for (const r of results.slice(1)) {
    row(`${r.name} vs release`, `${fmt(r.mb - base.mb, 1)} MB`, `start CPU ${fmt(r.version / base.version, 2)}x / ${fmt(r.help / base.help, 2)}x`)
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
