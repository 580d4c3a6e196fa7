/**
 * `npx -y mazemaker mcp` as an MCP client launches it: time from spawn to the first tool answer
 * (connect + initialize + one mazemaker_recall), from a private registry (Verdaccio on 127.0.0.1,
 * the release's npm packages published to it). Cold: an empty npm cache (npx downloads the
 * launcher and the ~55 MB linux-x64 package). Warm: the same cache again. Baseline in the same
 * run: the binary itself (`mazemaker mcp`, no npm in between). Medians of RUNS warm and baseline
 * runs; the cold one runs once per fresh cache, COLD times.
 *
 *   npx bun bench/npx-mcp.bench.ts
 */
import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { RELEASE_TARGETS } from '../build/targets'
import { spawnPod, tempHome } from '../test/helpers/pod-process'
import { freshRelease, releasePath } from '../test/helpers/release'
import { npmEnv, startRegistry } from '../test/helpers/verdaccio'
import { envInt, loadNote } from './_fed-util'
import { fmt, row } from './_util'

const RUNS = envInt('RUNS', 5)
const COLD = envInt('COLD', 2)

/** Milliseconds from spawning `command args` to the answer of the first tool call. */
async function firstAnswerMs(command: string, args: string[], env: Record<string, string>, cwd: string): Promise<number> {
  const t = performance.now()
  const client = new Client({ name: 'npx-bench', version: '1.0.0' })
  await client.connect(new StdioClientTransport({ command, args, env, cwd, stderr: 'ignore' }))
  try {
    const r = await client.callTool({ name: 'mazemaker_recall', arguments: { query: 'anything' } })
    if (r.isError) throw new Error(`recall failed: ${JSON.stringify(r.content)}`)
    return performance.now() - t
  } finally {
    await client.close()
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const stamp = freshRelease()
const root = tempHome('mzm-bench-npx-')
const registry = await startRegistry(join(root, 'registry'))
try {
  const publisher = join(root, 'publisher')
  const penv = npmEnv(publisher, registry)
  for (const name of [...RELEASE_TARGETS.map((t) => `mazemaker-${t.name}`), 'mazemaker']) {
    const r = Bun.spawnSync(['npm', 'publish', releasePath('npm', `${name}-${stamp.version}.tgz`)], { env: penv, cwd: publisher })
    if (r.exitCode !== 0) throw new Error(`publish ${name}: ${r.stderr}`)
  }
  // One pod home for every run (as after `mazemaker serve` once); no pod runs.
  const user = join(root, 'user')
  mkdirSync(user)
  const pod = await spawnPod({ home: join(user, '.mazemaker') })
  await pod.stop()

  console.log(`npx -y mazemaker@${stamp.version} mcp to the first tool answer, ${RUNS} warm runs, ${COLD} cold; ${loadNote()}`)
  const spec = `mazemaker@${stamp.version}`
  const cold: number[] = []
  for (let i = 0; i < COLD; i++) {
    const env = npmEnv(user, registry, { npm_config_cache: join(root, `cache-cold-${i}`) })
    cold.push(await firstAnswerMs('npx', ['-y', spec, 'mcp'], env, user))
  }
  const warmEnv = npmEnv(user, registry, { npm_config_cache: join(root, 'cache-cold-0') })
  const warm: number[] = []
  for (let i = 0; i < RUNS; i++) warm.push(await firstAnswerMs('npx', ['-y', spec, 'mcp'], warmEnv, user))
  const direct: number[] = []
  for (let i = 0; i < RUNS; i++) direct.push(await firstAnswerMs(releasePath('mazemaker-linux-x64'), ['mcp'], { HOME: user, PATH: '/usr/bin:/bin' }, user))

  row('binary directly (mazemaker mcp)', `${fmt(median(direct), 0)} ms`, 'baseline')
  row('npx, warm cache', `${fmt(median(warm), 0)} ms`, `${fmt(median(warm) / median(direct), 2)}x baseline`)
  row(
    'npx, empty cache (download)',
    `${fmt(median(cold), 0)} ms`,
    `${fmt(median(cold) / median(direct), 2)}x baseline · runs ${cold.map((c) => fmt(c, 0)).join(', ')}`,
  )
} finally {
  await registry.stop()
  rmSync(root, { recursive: true, force: true })
}
