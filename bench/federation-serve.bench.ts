/**
 * Serve rate: signed empty-delta POST /peer/sync polls per second that one
 * pod (a real process) answers, with p50/p99 latency. PEERS identities (each added to the pod
 * with its handshake URL) spread the polls, like many peers polling. Every request is signed
 * with a fresh nonce by a small load generator running in GEN child processes (so signing does
 * not share the pod's event loop), CONC connections in total, for DURATION_S seconds after a
 * one-second warm-up. "Empty delta" = `since` is the pod's current cursor (learnt by one pull).
 *
 * Baseline in the same run: the same generator against a bare Bun.serve child that reads the
 * body and answers a constant JSON (no signature check). Target: ≥ 3,000 polls/s.
 *
 *   npx bun bench/federation-serve.bench.ts
 *   GEN=1 CONC=16 DURATION_S=5 PEERS=5 npx bun bench/federation-serve.bench.ts   # smoke run
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { PodId, PublicKey } from '../src/identity'
import { openSyncResponse, sealSyncRequest } from '../src/protocol'
import { pullPage, syncUrl } from '../src/sync/peer-client'
import { spawnPod, tempHome, type PodProcess } from '../test/helpers/pod-process'
import { fmt, peakRssMb, percentile, row, rssMb } from './_util'
import {
  addPeer,
  announce,
  cpuSeconds,
  envInt,
  fillHome,
  identityOf,
  loadNote,
  podCommand,
  openBenchHome,
  resetPeakRss,
  spawnChild,
  stdinLines,
  type Child,
} from './_fed-util'

const GEN_FLAG = '--child=gen'
const CONST_FLAG = '--child=const'
const GEN = Math.max(1, envInt('GEN', 2))
const CONC = Math.max(GEN, envInt('CONC', 32))
const DURATION_S = Math.max(1, envInt('DURATION_S', 10))
const PEERS = Math.max(1, envInt('PEERS', 20))
/** Memories the pod holds (half private): the feed query runs against a real table. */
const POD_MEMORIES = envInt('POD_MEMORIES', 2000)
const WARMUP_MS = 1000
/** The generator verifies the response signature and emptiness of every n-th answer (pod runs only). */
const VERIFY_EVERY = 50
const TARGET_POLLS_PER_S = 3000

interface GenConfig {
  url: string
  calleeId: PodId
  calleeKey: PublicKey
  homes: string[]
  since: string
  concurrency: number
  durationMs: number
  verify: boolean
}

interface GenResult {
  count: number
  failures: number
  /** First few distinct failure descriptions. */
  errors: string[]
  verified: number
  seconds: number
  latenciesMs: number[]
}

/** Child: the load generator. Ready after deriving every pair key; runs on "go". */
async function genChild(configFile: string): Promise<void> {
  const cfg = JSON.parse(await Bun.file(configFile).text()) as GenConfig
  const peers = await Promise.all(
    cfg.homes.map(async (home) => {
      const h = await openBenchHome(home)
      return { id: h.identity.podId, pairKey: await h.identity.pairKey(cfg.calleeId, cfg.calleeKey) }
    }),
  )
  const request = { since: cfg.since, scope: ['public:*'], limit: 500 }
  const url = syncUrl(cfg.url)
  await announce({ ready: true })
  const lines = stdinLines()
  await lines.next() // "go"

  const latencies: number[] = []
  const errors = new Set<string>()
  let count = 0
  let failures = 0
  let verified = 0
  let sent = 0
  const warmEnd = performance.now() + WARMUP_MS
  const end = warmEnd + cfg.durationMs
  const worker = async (w: number) => {
    for (let k = 0; ; k++) {
      const now = performance.now()
      if (now >= end) return
      const peer = peers[(w + k * cfg.concurrency) % peers.length]!
      const out = sealSyncRequest({ pairKey: peer.pairKey, callerId: peer.id, calleeId: cfg.calleeId, request, nowMs: Date.now() })
      const t0 = performance.now()
      let ok = false
      let problem = ''
      try {
        const res = await fetch(url, { method: 'POST', headers: out.headers, body: out.body as Uint8Array<ArrayBuffer> })
        const bytes = new Uint8Array(await res.arrayBuffer())
        ok = res.status === 200
        if (!ok) problem = `http ${res.status} ${new TextDecoder().decode(bytes.subarray(0, 120))}`
        else if (cfg.verify && ++sent % VERIFY_EVERY === 0) {
          // Signature, seal and schema, as a puller checks them (throws on any failure).
          const page = openSyncResponse({ pairKey: peer.pairKey, sent: out, body: bytes, signature: res.headers.get('mzm-signature') })
          if (page.memories.length !== 0 || page.cursor !== cfg.since) (ok = false), (problem = `delta not empty: ${page.memories.length} entries`)
          else verified++
        }
      } catch (err) {
        problem = err instanceof Error ? err.message : String(err)
      }
      const t1 = performance.now()
      if (t0 < warmEnd || t1 > end) continue // warm-up, or finished after the window
      if (ok) {
        count++
        latencies.push(Math.round((t1 - t0) * 1000) / 1000)
      } else {
        failures++
        if (errors.size < 5) errors.add(problem)
      }
    }
  }
  await Promise.all(Array.from({ length: cfg.concurrency }, (_, w) => worker(w)))
  const result: GenResult = { count, failures, errors: [...errors], verified, seconds: cfg.durationMs / 1000, latenciesMs: latencies }
  await announce(result)
  process.exit(0)
}

/** Child: the baseline, a bare Bun.serve that reads the body and answers a constant JSON. */
async function constChild(answer: string): Promise<void> {
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req) {
      await req.arrayBuffer()
      return new Response(answer, { headers: { 'content-type': 'application/json', 'mzm-signature': 'A'.repeat(43) } })
    },
  })
  await announce({ url: `http://127.0.0.1:${server.port}` })
  process.once('SIGTERM', () => {
    server.stop(true)
    process.exit(0)
  })
}

interface Run {
  pollsPerS: number
  p50: number
  p99: number
  failures: number
  errors: string[]
  verified: number
  genCpuS: number
  serverCpuS: number
}

/** Starts GEN generators against `url`, releases them together, merges their results. */
async function drive(dir: string, base: Omit<GenConfig, 'concurrency' | 'url'>, url: string, serverPid: number): Promise<Run> {
  const gens: Child[] = []
  try {
    for (let g = 0; g < GEN; g++) {
      const cfg: GenConfig = { ...base, url, concurrency: Math.floor(CONC / GEN) + (g < CONC % GEN ? 1 : 0) }
      const file = join(dir, `gen-${g}.json`)
      writeFileSync(file, JSON.stringify(cfg))
      gens.push(await spawnChild(import.meta.path, [GEN_FLAG, file]))
    }
    for (const g of gens) g.send('go')
    // CPU over the measured window (after the warm-up); read before the generators report and exit.
    await Bun.sleep(WARMUP_MS)
    const serverCpu0 = cpuSeconds(serverPid)
    const genCpu0 = gens.map((g) => cpuSeconds(g.pid))
    await Bun.sleep(base.durationMs - 50)
    const serverCpuS = cpuSeconds(serverPid) - serverCpu0
    const genCpuS = gens.reduce((s, g, i) => s + cpuSeconds(g.pid) - genCpu0[i]!, 0)
    const results: GenResult[] = []
    for (const g of gens) results.push((await g.next()) as GenResult)
    const lat = results.flatMap((r) => r.latenciesMs).sort((x, y) => x - y)
    const count = results.reduce((n, r) => n + r.count, 0)
    return {
      pollsPerS: count / (base.durationMs / 1000),
      p50: percentile(lat, 50),
      p99: percentile(lat, 99),
      failures: results.reduce((n, r) => n + r.failures, 0),
      errors: [...new Set(results.flatMap((r) => r.errors))],
      verified: results.reduce((n, r) => n + r.verified, 0),
      genCpuS,
      serverCpuS,
    }
  } finally {
    await Promise.all(gens.map((g) => g.stop()))
  }
}

async function main(): Promise<void> {
  console.log(
    `# federation serve: signed empty-delta polls, ${PEERS} peers, ${GEN} generator process(es), ${CONC} connections, ${DURATION_S} s (Bun ${Bun.version}; ${loadNote()})`,
  )
  const dir = mkdtempSync(join(tmpdir(), 'mzm-fed-serve-'))
  const homeA = tempHome('mzm-fed-serve-a-')
  const homes = [homeA]
  let pod: PodProcess | null = null
  let baseline: Child | null = null
  try {
    await fillHome(homeA, { publicN: POD_MEMORIES / 2, privateN: POD_MEMORIES / 2 })
    const peerHomes = Array.from({ length: PEERS }, () => tempHome('mzm-fed-serve-peer-'))
    homes.push(...peerHomes)
    const peers = await Promise.all(peerHomes.map((h) => openBenchHome(h)))

    pod = await spawnPod({ home: homeA, command: podCommand() })
    const idA = await identityOf(pod)
    // No direct URL: the peers are handshake-pending for A, so A's own loop never pulls them.
    for (const p of peers) await addPeer(pod, p.identity.handshakeUrl())

    // Learn the current cursor the way a peer does: pull (verified) until more=false.
    const first = peers[0]!.identity
    const pairKey = await first.pairKey(idA.pod_id as PodId, idA.key as PublicKey)
    let since: string | null = null
    let pulled = 0
    for (;;) {
      const page = await pullPage({
        baseUrl: pod.url,
        pairKey,
        selfId: first.podId,
        peerId: idA.pod_id as PodId,
        since,
        scope: ['public:*'],
        limit: 1000,
        nowMs: Date.now(),
      })
      pulled += page.memories.length
      since = page.cursor
      if (!page.more) break
    }
    const emptyDelta = JSON.stringify({ pod_id: idA.pod_id, cursor: since, more: false, memories: [] })
    const base = { calleeId: idA.pod_id as PodId, calleeKey: idA.key as PublicKey, homes: peerHomes, since: since!, durationMs: DURATION_S * 1000 }

    baseline = await spawnChild(import.meta.path, [CONST_FLAG, emptyDelta])
    const bare = await drive(dir, { ...base, verify: false }, baseline.ready.url, baseline.pid)
    const bareRss = peakRssMb(baseline.pid)
    await baseline.stop()
    baseline = null

    const hwmReset = resetPeakRss(pod.pid)
    const rssBefore = rssMb(pod.pid)
    const real = await drive(dir, { ...base, verify: true }, pod.url, pod.pid)
    const rss = peakRssMb(pod.pid)

    console.log(`  (pod holds ${POD_MEMORIES} memories, ${pulled} shareable; empty delta = since ${since})`)
    const line = (r: Run) => `${fmt(r.pollsPerS, 0)}/s`
    const note = (r: Run) =>
      `p50 ${fmt(r.p50, 2)} ms  p99 ${fmt(r.p99, 2)} ms  server CPU ${fmt(r.serverCpuS, 1)} s, generators ${fmt(r.genCpuS, 1)} s` +
      (r.failures ? `  FAILURES ${r.failures}: ${r.errors.join(' | ')}` : '')
    row('baseline: bare Bun.serve constant JSON', line(bare), note(bare))
    row('pod: signed /peer/sync empty delta', line(real), note(real))
    row(
      'pod CPU per 1000 polls',
      `${fmt((real.serverCpuS / (real.pollsPerS * DURATION_S)) * 1000 * 1000, 0)} ms`,
      `baseline ${fmt((bare.serverCpuS / (bare.pollsPerS * DURATION_S)) * 1000 * 1000, 0)} ms`,
    )
    row('ratio pod / baseline', `${fmt(real.pollsPerS / bare.pollsPerS, 2)}`, `${real.verified} pod answers signature-verified and empty`)
    row(
      'peak RSS (VmHWM) pod',
      `${fmt(rss)} MB`,
      `${hwmReset ? 'during the run' : 'since start'}; RSS before ${fmt(rssBefore)} MB; baseline server peak ${fmt(bareRss)} MB`,
    )
    row('target ≥ 3,000 polls/s', real.pollsPerS >= TARGET_POLLS_PER_S && real.failures === 0 ? 'MET' : 'NOT MET')
    console.log(`\n(${loadNote()})`)
  } finally {
    await baseline?.stop()
    await pod?.stop()
    for (const h of homes) rmSync(h, { recursive: true, force: true })
    rmSync(dir, { recursive: true, force: true })
  }
}

const mode = process.argv[2]
if (mode === GEN_FLAG) await genChild(process.argv[3]!)
else if (mode === CONST_FLAG) await constChild(process.argv[3]!)
else await main()
