/**
 * The pulling pod's own work on a pull, without the network and without the serving pod: N
 * shareable memories as sealed, signed /peer/sync pages (the wire format is the contract's, so
 * any tree opens them), each opened (signature, seal, decode, validation) and stored
 * (applyRemote, with the commit journal's triggers in place as in a pod) by a child process.
 * Measured: CPU seconds of the child for the opening and for the storing. On a shared machine
 * these are steadier than a real pull's wall time, so a change to the store path shows here
 * first; federation-pull.bench.ts then says what it does to a pull between two pods.
 *
 * BASE=<a checkout, e.g. main before a change> measures that tree beside this one, alternating
 * ROUNDS times (default 5), each round in fresh processes; the minimum and the median count
 * (load only ever adds CPU time). RUNTIME=bun|deno|both (default bun) picks the child's runtime.
 *
 *   npx bun bench/pull-apply.bench.ts
 *   BASE=/work/wt/base ROUNDS=5 npx bun bench/pull-apply.bench.ts
 *   N=10000 ROUNDS=1 npx bun bench/pull-apply.bench.ts          # smoke run
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { importPairKey } from '../src/identity/pair-key'
import { sealSyncRequest, sealSyncResponse } from '../src/protocol/sync-exchange'
import { encodeSyncResponse } from '../src/protocol/sync-messages'
import { PAGE_LIMIT } from '../src/sync/constants'
import { DENO } from '../test/helpers/pod-process'
import { envInt, loadNote, sentence } from './_fed-util'
import { fmt, row } from './_util'

const N = envInt('N', 100_000)
const ROUNDS = envInt('ROUNDS', 5)
const ROOT = resolve(import.meta.dir, '..')
const CHILD = join(import.meta.dir, '_pull-apply-child.ts')
const runtimes = ((v) => (v === 'both' ? ['bun', 'deno'] : [v]))(process.env.RUNTIME ?? 'bun') as ('bun' | 'deno')[]

interface Run {
  openS: number
  applyS: number
  stored: number
}

/** The pages a peer would send for N memories (labels public:m<i>), sealed and signed for us. */
async function sealedPages(): Promise<object> {
  const pairKeyBytes = crypto.getRandomValues(new Uint8Array(32))
  const pairKey = await importPairKey(pairKeyBytes)
  const selfId = crypto.randomUUID()
  const peerId = crypto.randomUUID()
  const now = Date.now()
  const pages = []
  for (let start = 0; start < N; start += PAGE_LIMIT) {
    const memories = []
    for (let i = start; i < Math.min(N, start + PAGE_LIMIT); i++) {
      const at = new Date(now + i).toISOString()
      memories.push({ id: uuidAt(now + i, i), label: `public:m${i}`, content: sentence(i), created_at: at, updated_at: at })
    }
    const end = start + memories.length
    const page = { pod_id: peerId, cursor: String(end), more: end < N, memories }
    const sent = sealSyncRequest({ pairKey, callerId: selfId, calleeId: peerId, request: { since: start === 0 ? null : String(start) }, nowMs: now })
    const { body, signature } = sealSyncResponse({ pairKey, keys: sent.keys, nonce: sent.nonce, plain: encodeSyncResponse(page) })
    pages.push({ nonce: sent.nonce, body: Buffer.from(body).toString('base64'), signature })
  }
  return { pairKey: Buffer.from(pairKeyBytes).toString('base64'), selfId, peerId, pages }
}

/** A UUID v7 shaped id for memory i (time-ordered, as a pod's own ids are). */
function uuidAt(ms: number, i: number): string {
  const hex = ms.toString(16).padStart(12, '0') + '7' + (i % 4096).toString(16).padStart(3, '0') + '8' + i.toString(16).padStart(15, '0')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}

async function measure(tree: string, runtime: 'bun' | 'deno', file: string): Promise<Run> {
  const cmd = runtime === 'bun' ? [process.execPath, CHILD, tree, file] : [DENO, 'run', '-A', '--config', join(tree, 'deno.json'), CHILD, tree, file]
  const proc = Bun.spawn(cmd, { cwd: tree, stdout: 'pipe', stderr: 'inherit' })
  const out = await new Response(proc.stdout).text()
  if ((await proc.exited) !== 0) throw new Error(`${cmd.join(' ')} exited ${proc.exitCode}`)
  const run = JSON.parse(out.trim().split('\n').pop()!) as Run
  if (run.stored !== N) throw new Error(`${tree}: stored ${run.stored} of ${N}`)
  return run
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!

async function main(): Promise<void> {
  console.log(`# pull apply: ${N} copies in ${Math.ceil(N / PAGE_LIMIT)} pages, opened and stored in one process (Bun ${Bun.version}; ${loadNote()})`)
  const dir = mkdtempSync(join(tmpdir(), 'mzm-pull-apply-'))
  try {
    const file = join(dir, 'pages.json')
    writeFileSync(file, JSON.stringify(await sealedPages()))
    const trees = [{ name: 'this tree', root: ROOT }, ...(process.env.BASE ? [{ name: `base (${process.env.BASE})`, root: resolve(process.env.BASE) }] : [])]
    const configs = trees.flatMap((t) => runtimes.map((runtime) => ({ ...t, runtime, runs: [] as Run[] })))
    for (let r = 0; r < ROUNDS; r++) for (const c of configs) c.runs.push(await measure(c.root, c.runtime, file))
    for (const c of configs) {
      const opens = c.runs.map((x) => x.openS)
      const applies = c.runs.map((x) => x.applyS)
      console.log(`\n## ${c.name} under ${c.runtime} (${ROUNDS} rounds; CPU seconds, min / median)`)
      row('open: signature, seal, decode, validate', `${fmt(Math.min(...opens), 3)} / ${fmt(median(opens), 3)} s`)
      row(
        'store: applyRemote, until searchable',
        `${fmt(Math.min(...applies), 3)} / ${fmt(median(applies), 3)} s`,
        `${fmt(N / Math.min(...applies), 0)} copies/s`,
      )
      row('all rounds, open + store', c.runs.map((x) => fmt(x.openS + x.applyS, 2)).join(' '))
    }
    if (configs.length > runtimes.length) {
      console.log('\n## base / this tree (> 1: this tree is cheaper)')
      for (const runtime of runtimes) {
        const [now, base] = configs.filter((c) => c.runtime === runtime)
        const sum = (c: typeof now) => c!.runs.map((x) => x.openS + x.applyS)
        row(`${runtime}: open + store, min`, `${fmt(Math.min(...sum(base)) / Math.min(...sum(now)), 2)}x`)
        row(`${runtime}: open + store, median`, `${fmt(median(sum(base)) / median(sum(now)), 2)}x`)
      }
    }
    console.log(`\n(${loadNote()})`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
