/**
 * What a process costs to start, in CPU seconds (user + sys, from the child's rusage): a CLI
 * command (`--version`) and `serve` until it logs that it listens, for the compiled binary and
 * from source, beside a bare `bun -e 0` measured in the same run. The test suite starts ~400
 * of these, and an agent's MCP client starts `mazemaker mcp` for every session.
 *
 *   npm run build && npx bun bench/startup.bench.ts        # ROUNDS=9 by default
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const ROOT = join(import.meta.dir, '..')
const ROUNDS = Number(process.env.ROUNDS ?? 9)
const BIN = join(ROOT, 'dist', 'mazemaker')
const SOURCE = [process.execPath, join(ROOT, 'src', 'main.ts')]

const cpuSeconds = (p: Bun.Subprocess) => {
  const u = p.resourceUsage()
  return u ? (Number(u.cpuTime.user) + Number(u.cpuTime.system)) / 1e6 : Number.NaN
}

async function command(argv: string[]): Promise<number> {
  const p = Bun.spawn(argv, { stdout: 'ignore', stderr: 'ignore' })
  await p.exited
  return cpuSeconds(p)
}

/** Starts `serve` on a fresh home, waits for its listen line, stops it with SIGTERM. */
async function serve(argv: string[]): Promise<number> {
  const home = mkdtempSync(join(tmpdir(), 'mzm-startup-'))
  try {
    const p = Bun.spawn([...argv, 'serve', '--home', home, '--port', '0'], {
      stdout: 'ignore',
      stderr: 'pipe',
      env: { ...process.env, MAZEMAKER_LIVE_WAIT: '0' },
    })
    const reader = p.stderr.getReader()
    let seen = ''
    while (!seen.includes('op=listen')) {
      const { value, done } = await reader.read()
      if (done) throw new Error(`serve exited before listening:\n${seen}`)
      seen += new TextDecoder().decode(value)
    }
    p.kill('SIGTERM')
    await p.exited
    return cpuSeconds(p)
  } finally {
    rmSync(home, { recursive: true, force: true })
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN

async function measure(run: () => Promise<number>): Promise<number> {
  const xs: number[] = []
  for (let i = 0; i < ROUNDS; i++) xs.push(await run())
  return median(xs)
}

if (!(await Bun.file(BIN).exists())) throw new Error('dist/mazemaker is missing: run `npm run build` first')
const bare = await measure(() => command([process.execPath, '-e', '0']))
const rows: [string, number][] = [
  ['binary: --version', await measure(() => command([BIN, '--version']))],
  ['binary: serve until listening', await measure(() => serve([BIN]))],
  ['source: --version', await measure(() => command([...SOURCE, '--version']))],
  ['source: serve until listening', await measure(() => serve(SOURCE))],
]
console.log(`median CPU of ${ROUNDS} starts; baseline bare \`bun -e 0\`: ${(bare * 1000).toFixed(0)} ms`)
for (const [name, s] of rows) console.log(`${name.padEnd(32)} ${(s * 1000).toFixed(0).padStart(5)} ms  (${(s / bare).toFixed(1)}x bare bun)`)
