/**
 * What MCP adds to a write: `tools/call` mazemaker_remember with the official SDK client over
 * Streamable HTTP vs `POST /memories` on the same pod. Per pod: both medians and their
 * difference (wall), the pod's CPU per call for each (the machine is shared: CPU is the steadier
 * number), and this process's CPU per call (the client's share of the wall time: the SDK client
 * validates every answer). With MCP_BASE=<another checkout of the repository, with node_modules>
 * a pod built from it runs beside this tree's, in the same rounds, so load drifts hit both alike.
 * Run: MCP_BASE=../old npx bun bench/mcp-overhead.bench.ts   Scale: MCP_CALLS=2000 (per path) MCP_ROUNDS=10 MCP_WARM=500
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
  podCpuS: number
  clientCpuS: number
  call(i: number): Promise<unknown>
}
interface Subject {
  name: string
  pod: PodProcess
  client: Client
  rest: Side
  mcp: Side
}

async function subject(name: string, tree: string): Promise<Subject> {
  const pod = await spawnPod({ command: [process.execPath, join(tree, 'src', 'main.ts')] })
  const client = new Client({ name: 'bench', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(new URL(`${pod.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${pod.token()}` } } }))
  const body = (tag: string, i: number) => ({ label: i % 2 ? `public:${tag}-${i}` : `note:${tag}-${i}`, content: `bench ${tag} call ${i} alpha tango` })
  const side = (call: (i: number) => Promise<unknown>): Side => ({ ms: [], podCpuS: 0, clientCpuS: 0, call })
  return {
    name,
    pod,
    client,
    rest: side((i) => pod.api('POST', '/memories', body('rest', i))),
    mcp: side((i) => client.callTool({ name: 'mazemaker_remember', arguments: body('mcp', i) })),
  }
}

async function runRound(s: Subject, side: Side, first: number, count: number): Promise<void> {
  const pod0 = cpuSeconds(s.pod.pid)
  const client0 = process.cpuUsage()
  for (let k = 0; k < count; k++) {
    const t = performance.now()
    await side.call(first + k)
    side.ms.push(performance.now() - t)
  }
  const client = process.cpuUsage(client0)
  side.clientCpuS += (client.user + client.system) / 1e6
  side.podCpuS += cpuSeconds(s.pod.pid) - pod0
}

const med = (s: Side) => percentile(s.ms, 50)
/** A difference with its sign: MCP may come out cheaper than REST within the noise. */
const signed = (n: number, digits: number) => `${n < 0 ? '−' : '+'}${fmt(Math.abs(n), digits)}`
const podUs = (s: Side) => (s.podCpuS / s.ms.length) * 1e6
const clientUs = (s: Side) => (s.clientCpuS / s.ms.length) * 1e6

function show(s: Subject): void {
  const { name, rest, mcp } = s
  const cpu = (side: Side) => `pod CPU ${fmt(podUs(side), 0)} µs/call, client ${fmt(clientUs(side), 0)}`
  row(`${name}: POST /memories median`, `${fmt(med(rest), 3)} ms`, cpu(rest))
  row(`${name}: MCP tools/call remember median`, `${fmt(med(mcp), 3)} ms`, cpu(mcp))
  row(
    `${name}: MCP − REST`,
    `${signed(med(mcp) - med(rest), 3)} ms`,
    `pod CPU ${signed(podUs(mcp) - podUs(rest), 0)} µs/call, client ${signed(clientUs(mcp) - clientUs(rest), 0)}`,
  )
}

console.log(`MCP remember vs POST /memories, ${CALLS} calls each in ${ROUNDS} alternating rounds; ${loadNote()}`)
const subjects = [...(BASE ? [await subject('before', resolve(BASE))] : []), await subject('after', HERE)]
try {
  // Warm until the JIT has compiled both paths: a pod serves for days, so the steady state is what counts.
  const warm = envInt('MCP_WARM', 500)
  for (const s of subjects) {
    for (let i = 0; i < warm; i++) {
      await s.rest.call(-1 - i)
      await s.mcp.call(-1 - i)
    }
  }
  const per = Math.ceil(CALLS / ROUNDS)
  for (let r = 0; r < ROUNDS; r++) {
    // Every pod and both paths in each round, the order turned each time.
    const order = r % 2 ? [...subjects].reverse() : subjects
    for (const s of order) for (const side of r % 2 ? [s.mcp, s.rest] : [s.rest, s.mcp]) await runRound(s, side, r * per, per)
  }
  console.log(`  ${loadNote()} at the end`)
  for (const s of subjects) for (const side of [s.rest, s.mcp]) side.ms.sort((a, b) => a - b)
  for (const s of subjects) show(s)
  const [before, after] = subjects
  if (BASE && before && after) {
    const over = (s: Subject) => med(s.mcp) - med(s.rest)
    const cpuOver = (s: Subject) => podUs(s.mcp) - podUs(s.rest)
    row('after/before: MCP overhead (median)', `${fmt(over(after) / over(before), 2)}×`)
    row('after/before: MCP overhead (pod CPU)', `${fmt(cpuOver(after) / cpuOver(before), 2)}×`)
  }
} finally {
  for (const s of subjects) {
    await s.client.close()
    await s.pod[Symbol.asyncDispose]()
  }
}
