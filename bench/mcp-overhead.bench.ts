/**
 * What MCP adds to a write: `tools/call` mazemaker_remember with the official SDK client over
 * Streamable HTTP vs `POST /memories` on the same pod, alternating in rounds so load drifts hit
 * both alike. Per pod: both medians and their difference (wall), and the pod's CPU per call for
 * each (the machine is shared: CPU is the steadier number). With MCP_BASE=<another checkout of
 * the repository, with node_modules> the same runs against a pod built from it, in the same run.
 * Run: MCP_BASE=../old npx bun bench/mcp-overhead.bench.ts   Scale: MCP_CALLS=2000 (per path) MCP_ROUNDS=10
 */
import { join, resolve } from 'node:path'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { spawnPod, type PodProcess } from '../test/helpers/pod-process'
import { cpuSeconds, envInt, loadNote } from './_fed-util'
import { fmt, percentile, row } from './_util'

const CALLS = envInt('MCP_CALLS', 2000)
const ROUNDS = Math.max(1, envInt('MCP_ROUNDS', 10))
const BASE = process.env.MCP_BASE
const HERE = resolve(import.meta.dir, '..')

interface Side {
  ms: number[]
  cpuS: number
}
interface Result {
  rest: Side
  mcp: Side
}

async function measure(pod: PodProcess): Promise<Result> {
  const client = new Client({ name: 'bench', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(new URL(`${pod.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${pod.token()}` } } }))
  const body = (tag: string, i: number) => ({ label: i % 2 ? `public:${tag}-${i}` : `note:${tag}-${i}`, content: `bench ${tag} call ${i} alpha tango` })
  const rest = (i: number) => pod.api('POST', '/memories', body('rest', i))
  const mcp = (i: number) => client.callTool({ name: 'mazemaker_remember', arguments: body('mcp', i) })
  for (let i = 0; i < 100; i++) {
    await rest(-1 - i)
    await mcp(-1 - i)
  }
  const out: Result = { rest: { ms: [], cpuS: 0 }, mcp: { ms: [], cpuS: 0 } }
  const per = Math.ceil(CALLS / ROUNDS)
  for (let r = 0; r < ROUNDS; r++) {
    for (const [side, call] of [
      [out.rest, rest],
      [out.mcp, mcp],
    ] as const) {
      const cpu0 = cpuSeconds(pod.pid)
      for (let k = 0; k < per; k++) {
        const t = performance.now()
        await call(r * per + k)
        side.ms.push(performance.now() - t)
      }
      side.cpuS += cpuSeconds(pod.pid) - cpu0
    }
  }
  await client.close()
  for (const s of [out.rest, out.mcp]) s.ms.sort((a, b) => a - b)
  return out
}

async function podOf(tree: string): Promise<Result> {
  await using pod = await spawnPod({ command: [process.execPath, join(tree, 'src', 'main.ts')] })
  return await measure(pod)
}

const med = (s: Side) => percentile(s.ms, 50)
const cpuUs = (s: Side) => (s.cpuS / s.ms.length) * 1e6

function show(name: string, r: Result): void {
  row(`${name}: POST /memories median`, `${fmt(med(r.rest), 3)} ms`, `pod CPU ${fmt(cpuUs(r.rest), 0)} µs/call`)
  row(`${name}: MCP tools/call remember median`, `${fmt(med(r.mcp), 3)} ms`, `pod CPU ${fmt(cpuUs(r.mcp), 0)} µs/call`)
  row(`${name}: MCP − REST`, `+${fmt(med(r.mcp) - med(r.rest), 3)} ms`, `pod CPU +${fmt(cpuUs(r.mcp) - cpuUs(r.rest), 0)} µs/call`)
}

console.log(`MCP remember vs POST /memories, ${CALLS} calls each in ${ROUNDS} alternating rounds; ${loadNote()}`)
const before = BASE ? await podOf(resolve(BASE)) : null
const after = await podOf(HERE)
if (before) show('before', before)
show('after', after)
if (before) {
  const over = (r: Result) => med(r.mcp) - med(r.rest)
  const cpuOver = (r: Result) => cpuUs(r.mcp) - cpuUs(r.rest)
  row('after/before: MCP overhead (median)', `${fmt(over(after) / over(before), 2)}×`)
  row('after/before: MCP overhead (pod CPU)', `${fmt(cpuOver(after) / cpuOver(before), 2)}×`)
}
