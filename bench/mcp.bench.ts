/**
 * MCP and backup measurements, each beside a baseline measured in the same run:
 *  - MCP remember and recall with the official SDK client, one call at a time, over Streamable
 *    HTTP and over stdio (`mazemaker mcp` proxying to the running pod over its socket; and with
 *    no pod running, over the home directly), at 1,000 and 100,000 memories: median and p99 per
 *    call, beside the same operations over the plain REST API (POST /memories, GET /recall).
 *  - `mazemaker backup` of a 100k-memory pod while it runs: wall time and peak RSS (VmHWM of the
 *    backup process), beside the floor of its two unavoidable parts: VACUUM INTO alone and one
 *    scrypt (age's passphrase work factor 18) alone.
 * Run: npx bun bench/mcp.bench.ts [calls|backup]   Scale: MCP_SIZES=1000,100000 MCP_CALLS=500
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { MAIN, spawnPod, testEnv, type PodProcess } from '../test/helpers/pod-process'
import { envInt, fillHome, loadNote, spawnChild } from './_fed-util'
import { fmt, percentile, row } from './_util'

const SIZES = (process.env.MCP_SIZES ?? '1000,100000').split(',').map(Number)
const CALLS = envInt('MCP_CALLS', 500)
const WARMUP = 30
const BACKUP_N = envInt('BACKUP_N', 100_000)
const PASS = 'bench passphrase, not a secret'

interface Stats {
  median: number
  p99: number
}
async function timeCalls(n: number, fn: (i: number) => Promise<unknown>): Promise<Stats> {
  for (let i = 0; i < WARMUP; i++) await fn(-1 - i)
  const ms: number[] = []
  for (let i = 0; i < n; i++) {
    const t = performance.now()
    await fn(i)
    ms.push(performance.now() - t)
  }
  ms.sort((a, b) => a - b)
  return { median: percentile(ms, 50), p99: percentile(ms, 99) }
}
const show = (s: Stats) => `${fmt(s.median, 2)} / ${fmt(s.p99, 2)} ms`

async function mcpCalls(client: Client, tag: string) {
  const remember = await timeCalls(CALLS, (i) =>
    client.callTool({
      name: 'mazemaker_remember',
      arguments: { label: i % 2 ? `public:${tag}-${i}` : `note:${tag}-${i}`, content: `bench ${tag} call ${i} alpha tango` },
    }),
  )
  const recall = await timeCalls(CALLS, (i) =>
    client.callTool({ name: 'mazemaker_recall', arguments: { query: `${['alpha', 'bravo', 'kilo', 'zulu'][Math.abs(i) % 4]} notes`, k: 10 } }),
  )
  return { remember, recall }
}

async function restCalls(pod: PodProcess, tag: string) {
  const remember = await timeCalls(CALLS, (i) =>
    pod.api('POST', '/memories', { label: i % 2 ? `public:${tag}-${i}` : `note:${tag}-${i}`, content: `bench ${tag} call ${i} alpha tango` }),
  )
  const recall = await timeCalls(CALLS, (i) => pod.api('GET', `/recall?q=${['alpha', 'bravo', 'kilo', 'zulu'][Math.abs(i) % 4]}+notes&k=10`))
  return { remember, recall }
}

async function connect(transport: StdioClientTransport | StreamableHTTPClientTransport): Promise<Client> {
  const client = new Client({ name: 'bench', version: '1.0.0' })
  await client.connect(transport)
  return client
}

async function callsAt(size: number) {
  console.log(`\n## MCP calls, one at a time, ${size} memories (half private); median / p99 per call, ${CALLS} calls each`)
  const home = mkdtempSync(join(tmpdir(), 'mzm-bench-mcp-'))
  try {
    await fillHome(home, { publicN: size / 2, privateN: size / 2 })
    const pod = await spawnPod({ home })
    try {
      const rest = await restCalls(pod, 'rest')
      const http = await connect(
        new StreamableHTTPClientTransport(new URL(pod.url + '/mcp'), { requestInit: { headers: { authorization: `Bearer ${pod.token()}` } } }),
      )
      const overHttp = await mcpCalls(http, 'http')
      await http.close()
      const stdio = await connect(
        new StdioClientTransport({ command: process.execPath, args: [MAIN, 'mcp', '--home', home], env: testEnv(), stderr: 'ignore' }),
      )
      const overStdio = await mcpCalls(stdio, 'stdio')
      await stdio.close()
      row('baseline: REST POST /memories', show(rest.remember))
      row('MCP remember, Streamable HTTP', show(overHttp.remember), `${fmt(overHttp.remember.median / rest.remember.median, 2)}x REST median`)
      row('MCP remember, stdio → pod socket', show(overStdio.remember), `${fmt(overStdio.remember.median / rest.remember.median, 2)}x REST median`)
      row('baseline: REST GET /recall', show(rest.recall))
      row('MCP recall, Streamable HTTP', show(overHttp.recall), `${fmt(overHttp.recall.median / rest.recall.median, 2)}x REST median`)
      row('MCP recall, stdio → pod socket', show(overStdio.recall), `${fmt(overStdio.recall.median / rest.recall.median, 2)}x REST median`)
    } finally {
      await pod.stop()
    }
    const local = await connect(new StdioClientTransport({ command: process.execPath, args: [MAIN, 'mcp', '--home', home], env: testEnv(), stderr: 'ignore' }))
    const overLocal = await mcpCalls(local, 'local')
    await local.close()
    row('MCP remember, stdio, no pod (home direct)', show(overLocal.remember))
    row('MCP recall, stdio, no pod (home direct)', show(overLocal.recall))
  } finally {
    rmSync(home, { recursive: true, force: true })
  }
}

/** Runs `script` in its own process and returns what it announced plus its peak RSS. */
async function measured(script: string, args: string[]): Promise<{ ms: number; peakMb: number; bytes: number }> {
  const child = await spawnChild(script, args, 600_000)
  await child.stop()
  return child.ready as { ms: number; peakMb: number; bytes: number }
}

async function backupBench() {
  console.log(`\n## mazemaker backup of a ${BACKUP_N}-memory pod (half private) while it runs`)
  const home = mkdtempSync(join(tmpdir(), 'mzm-bench-bk-'))
  try {
    await fillHome(home, { publicN: BACKUP_N / 2, privateN: BACKUP_N / 2 })
    const pod = await spawnPod({ home })
    try {
      const worker = join(import.meta.dir, '_backup-worker.ts')
      const out = join(home, '..', `${home.split('/').pop()}-backup.age`)
      const vacuum = await measured(worker, ['vacuum', home])
      const scrypt = await measured(worker, ['scrypt'])
      const backup = await measured(worker, ['backup', home, out, PASS])
      rmSync(out, { force: true })
      row('floor: VACUUM INTO alone', `${fmt(vacuum.ms / 1000, 2)} s`, `peak RSS ${fmt(vacuum.peakMb, 0)} MB, db ${fmt(vacuum.bytes / 1e6, 1)} MB`)
      row('floor: one scrypt (logN 18) alone', `${fmt(scrypt.ms / 1000, 2)} s`, `peak RSS ${fmt(scrypt.peakMb, 0)} MB`)
      row(
        'mazemaker backup (snapshot+tar+gzip+age)',
        `${fmt(backup.ms / 1000, 2)} s`,
        `peak RSS ${fmt(backup.peakMb, 0)} MB, file ${fmt(backup.bytes / 1e6, 1)} MB, ${fmt(backup.ms / (vacuum.ms + scrypt.ms), 2)}x the floors' sum`,
      )
    } finally {
      await pod.stop()
    }
  } finally {
    rmSync(home, { recursive: true, force: true })
  }
}

const which = process.argv[2]
console.log(`# MCP and backup benchmarks (${loadNote()})`)
if (!which || which === 'calls') for (const size of SIZES) await callsAt(size)
if (!which || which === 'backup') await backupBench()
