/**
 * One round against many peers: puller P (a real pod process) pulls from
 * PEERS peer pods, each a real pod identity (startPod with a temp home and MEMS memories) spread
 * over CHILDREN child processes, all paired both ways. Measured: wall time of one POST
 * /peer/sync-now round on P until it answers, twice (first round: every peer has MEMS new
 * memories; second round: steady state, every delta empty), P's CPU seconds and peak RSS (VmHWM).
 *
 * Baseline in the same run: puller P1 (another real pod process) doing the same rounds against
 * one of those peers, i.e. the per-peer cost; printed beside it, round / baseline and the
 * effective parallelism (sum of per-peer pull times / round time).
 *
 *   npx bun bench/federation-200.bench.ts
 *   PEERS=20 CHILDREN=2 npx bun bench/federation-200.bench.ts   # smoke run
 */
import { rmSync, writeFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { PodId, PublicKey } from '../src/identity'
import { createLogger } from '../src/lib/log'
import { startPod, type Pod } from '../src/pod'
import { spawnPod, tempHome, type PodProcess } from '../test/helpers/pod-process'
import { fmt, peakRssMb, percentile, pool, row, rssMb } from './_util'
import {
  addPeer,
  announce,
  cpuSeconds,
  envInt,
  identityOf,
  loadNote,
  podCommand,
  resetPeakRss,
  sentence,
  spawnChild,
  type Child,
  type SyncRound,
} from './_fed-util'

const CHILD_FLAG = '--child=peers'
const PEERS = Math.max(1, envInt('PEERS', 200))
const CHILDREN = Math.max(1, Math.min(PEERS, envInt('CHILDREN', 4)))
const MEMS = envInt('MEMS', 5)
/** Concurrent admin calls while pairing P with the peers. */
const PAIRING_CONCURRENCY = 4

interface PeersConfig {
  count: number
  memories: number
  /** The pullers every peer pod trusts (their table + key file), so each peer serves them. */
  trust: { id: PodId; key: PublicKey; url: string }[]
}

/** Child: `count` pods in this one process, each trusting the pullers and holding `memories` memories. */
async function peersChild(configFile: string): Promise<void> {
  const cfg = JSON.parse(await Bun.file(configFile).text()) as PeersConfig
  const log = createLogger({ level: 'warn' })
  const pods: Pod[] = []
  const homes: string[] = []
  const shutdown = async () => {
    await Promise.all(pods.map((p) => p.close().catch(() => undefined)))
    for (const h of homes) rmSync(h, { recursive: true, force: true })
    process.exit(0)
  }
  process.once('SIGTERM', () => void shutdown())
  for (let i = 0; i < cfg.count; i++) {
    const home = tempHome('mzm-fed-200-peer-')
    homes.push(home)
    // autoSync off: the peers only serve (they would otherwise pull from the pullers too).
    const pod = await startPod({ home, port: 0, host: '127.0.0.1', log, autoSync: false })
    pods.push(pod)
    for (const t of cfg.trust) pod.home.peers.add({ id: t.id, key: t.key, url: t.url, sync: false })
    for (let m = 0; m < cfg.memories; m++) pod.store.remember({ label: `public:p${i}-m${m}`, content: sentence(i * 31 + m) })
  }
  await announce({ pods: pods.map((p) => ({ id: p.id, url: p.url, handshake_url: p.home.identity.handshakeUrl() })) })
}

interface Round {
  round: SyncRound
  cpuS: number
}

async function timedRound(pod: PodProcess, expectFetched: number): Promise<Round> {
  const cpu0 = cpuSeconds(pod.pid)
  const t = performance.now()
  const res = await pod.api('POST', '/peer/sync-now', {})
  const ms = performance.now() - t
  const cpuS = cpuSeconds(pod.pid) - cpu0
  if (res.status !== 200) throw new Error(`sync-now → ${res.status} ${JSON.stringify(res.body)}`)
  const results = res.body.results as SyncRound['results']
  const failed = results.filter((r) => !r.ok)
  if (failed.length) throw new Error(`${failed.length} of ${results.length} pulls failed, first: ${JSON.stringify(failed[0])}`)
  const fetched = results.reduce((n, r) => n + r.fetched, 0)
  if (fetched !== expectFetched) throw new Error(`round fetched ${fetched} entries, expected ${expectFetched}`)
  return { round: { ms, results }, cpuS }
}

function describe(r: Round): string {
  const per = r.round.results.map((x) => x.ms).sort((a, b) => a - b)
  const sum = per.reduce((s, x) => s + x, 0)
  return `per-peer pull p50 ${fmt(percentile(per, 50), 0)} ms, max ${fmt(per[per.length - 1] ?? 0, 0)} ms; parallelism ${fmt(sum / r.round.ms)}; CPU ${fmt(r.cpuS, 2)} s`
}

async function main(): Promise<void> {
  console.log(`# federation round: 1 puller, ${PEERS} peer pods in ${CHILDREN} processes, ${MEMS} memories each (Bun ${Bun.version}; ${loadNote()})`)
  const dir = mkdtempSync(join(tmpdir(), 'mzm-fed-200-'))
  const pullers: PodProcess[] = []
  const children: Child[] = []
  try {
    const p = await spawnPod({ home: tempHome('mzm-fed-200-p-'), command: podCommand() })
    pullers.push(p)
    const p1 = await spawnPod({ home: tempHome('mzm-fed-200-p1-'), command: podCommand() })
    pullers.push(p1)
    const [idP, idP1] = await Promise.all([identityOf(p), identityOf(p1)])
    const trust = [
      { id: idP.pod_id as PodId, key: idP.key as PublicKey, url: p.url },
      { id: idP1.pod_id as PodId, key: idP1.key as PublicKey, url: p1.url },
    ]

    let t = performance.now()
    const started = await Promise.all(
      Array.from({ length: CHILDREN }, async (_, c) => {
        const count = Math.floor(PEERS / CHILDREN) + (c < PEERS % CHILDREN ? 1 : 0)
        const file = join(dir, `peers-${c}.json`)
        writeFileSync(file, JSON.stringify({ count, memories: MEMS, trust } satisfies PeersConfig))
        const child = await spawnChild(import.meta.path, [CHILD_FLAG, file], 300_000)
        children.push(child)
        return child
      }),
    )
    const peers = started.flatMap((c) => c.ready.pods as { id: string; url: string; handshake_url: string }[])
    const childRss = started.reduce((s, c) => s + rssMb(c.pid), 0)
    console.log(`  (${peers.length} peer pods up in ${fmt((performance.now() - t) / 1000)} s; ${fmt(childRss, 0)} MB RSS across ${CHILDREN} processes)`)

    t = performance.now()
    await pool(peers.length, PAIRING_CONCURRENCY, (i) => addPeer(p, peers[i]!.handshake_url, { direct_url: peers[i]!.url }))
    await addPeer(p1, peers[0]!.handshake_url, { direct_url: peers[0]!.url })
    console.log(`  (paired in ${fmt((performance.now() - t) / 1000)} s)`)

    // Baseline first (1 peer), then the full round, each: first pull, then steady state.
    // Peak RSS of the rounds themselves: VmHWM restarts from the current RSS here.
    const hwmReset = resetPeakRss(p1.pid) && resetPeakRss(p.pid)
    const p1Rss0 = rssMb(p1.pid)
    const one = await timedRound(p1, MEMS)
    const oneSteady = await timedRound(p1, 0)
    const p1Rss = peakRssMb(p1.pid)
    const pRss0 = rssMb(p.pid)
    const all = await timedRound(p, PEERS * MEMS)
    const pRssFirst = peakRssMb(p.pid)
    const allSteady = await timedRound(p, 0)
    const pRss = peakRssMb(p.pid)
    const hwmNote = hwmReset ? 'peak during the rounds' : 'peak since start (VmHWM reset not permitted)'
    console.log('\n## baseline: P1 pulls from 1 peer')
    row('first round (new memories)', `${fmt(one.round.ms, 1)} ms`, describe(one))
    row('steady round (empty delta)', `${fmt(oneSteady.round.ms, 1)} ms`, describe(oneSteady))
    row('P1 peak RSS (VmHWM)', `${fmt(p1Rss)} MB`, `${hwmNote}; RSS before ${fmt(p1Rss0)} MB`)
    console.log(`\n## P pulls from ${PEERS} peers (sync-now, at most 8 pulls in flight)`)
    row('first round (new memories)', `${fmt(all.round.ms, 0)} ms`, describe(all))
    row('  ratio to 1-peer round', `${fmt(all.round.ms / one.round.ms, 1)}x`, `${fmt(all.round.ms / PEERS, 1)} ms per peer`)
    row('steady round (empty deltas)', `${fmt(allSteady.round.ms, 0)} ms`, describe(allSteady))
    row('  ratio to 1-peer round', `${fmt(allSteady.round.ms / oneSteady.round.ms, 1)}x`, `${fmt(allSteady.round.ms / PEERS, 1)} ms per peer`)
    row('P peak RSS (VmHWM)', `${fmt(pRss)} MB`, `${hwmNote}; RSS before ${fmt(pRss0)} MB, peak after first round ${fmt(pRssFirst)} MB`)
    console.log(`\n(${loadNote()})`)
  } finally {
    await Promise.all(children.map((c) => c.stop()))
    await Promise.all(pullers.map((x) => x.stop().catch(() => undefined)))
    for (const x of pullers) rmSync(x.home, { recursive: true, force: true })
    rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[2] === CHILD_FLAG) await peersChild(process.argv[3]!)
else await main()
