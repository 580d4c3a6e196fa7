/**
 * Live federation: a hub H (a real pod process, MAZEMAKER_LIVE_WAIT=50)
 * and N live spokes, each a real puller (its own home, store and sync loop with live pulls, the
 * production pull path; no HTTP server of its own), spread over CHILDREN child processes.
 *
 * A trial: POST /memories at H (a public memory with a unique word) → every spoke's long-poll
 * is answered → each spoke stores the copy and recall() finds it. Latency per spoke = the time
 * its recall finds the word minus the time the write was sent (both from the same machine clock,
 * performance.timeOrigin + performance.now()).
 *
 *   phases: N = 1 (TRIALS_1 trials), 200 (TRIALS_200), 2000 (TRIALS_2000); then, with every
 *   spoke's request held, H's CPU and RSS over IDLE_S seconds (from /proc).
 *
 * Baseline in the same run: the same write pulled by one spoke with sync-now semantics (a
 * normal pull right after the write, no long-poll), i.e. what live saves beyond the five-minute tick.
 *
 *   npx bun bench/live.bench.ts
 *   PHASES=1,20 TRIALS_1=50 IDLE_S=5 CHILDREN=2 npx bun bench/live.bench.ts   # smoke run
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { homePaths, openHome, type PodHome, type PodId, type PublicKey } from '../src/identity'
import { formatPeersToml } from '../src/identity/peers-toml'
import { writeFileAtomic } from '../src/lib/atomic-file'
import { systemClock } from '../src/lib/clock'
import { createLogger } from '../src/lib/log'
import { openStore, type Store } from '../src/store'
import { createSyncLoop, type SyncLoop } from '../src/sync/sync-loop'
import { spawnPod, tempHome, type PodProcess } from '../test/helpers/pod-process'
import { fmt, percentile, rssMb, row } from './_util'
import { announce, cpuSeconds, envInt, identityOf, loadNote, spawnChild, stdinLines, type Child } from './_fed-util'

const CHILD_FLAG = '--child=spokes'
const PHASES = (process.env.PHASES ?? '1,200,2000')
  .split(',')
  .map(Number)
  .filter((n) => n > 0)
const MAX_SPOKES = Math.max(...PHASES)
const CHILDREN = Math.max(1, Math.min(MAX_SPOKES, envInt('CHILDREN', 8)))
const TRIALS: Record<number, number> = { 1: envInt('TRIALS_1', 200), 200: envInt('TRIALS_200', 30), 2000: envInt('TRIALS_2000', 10) }
const IDLE_S = envInt('IDLE_S', 60)
const TRIAL_TIMEOUT_MS = 60_000
const LIVE_ENV = { MAZEMAKER_LIVE_WAIT: '50' }

const now = () => performance.timeOrigin + performance.now()

interface Spoke {
  home: PodHome
  store: Store | null
  loop: SyncLoop | null
}

/** Child: `count` spoke homes pulling the hub live once told to start. */
async function spokesChild(configFile: string): Promise<void> {
  const cfg = JSON.parse(await Bun.file(configFile).text()) as { count: number; hub: { id: PodId; key: PublicKey; url: string } }
  const log = createLogger({ level: 'warn' })
  const spokes: Spoke[] = []
  for (let i = 0; i < cfg.count; i++) {
    const home = await openHome(tempHome('mzm-live-spoke-'), { log })
    home.peers.add({ id: cfg.hub.id, key: cfg.hub.key, url: cfg.hub.url })
    spokes.push({ home, store: null, loop: null })
  }
  await announce({ spokes: spokes.map((s) => ({ id: s.home.identity.podId, key: s.home.identity.publicKey })) })
  let expecting: { token: string; arrivals: (number | null)[]; left: number; done: () => void } | null = null
  let started = 0
  for await (const line of stdinLines()) {
    const cmd = JSON.parse(line) as { op: 'start'; upTo: number } | { op: 'expect'; token: string } | { op: 'collect' } | { op: 'stop' }
    if (cmd.op === 'start') {
      for (; started < Math.min(cmd.upTo, spokes.length); started++) {
        const s = spokes[started]!
        const i = started
        const { identity, config, paths, peers } = s.home
        const store = openStore({
          path: paths.db,
          vaultKey: identity.vaultKey,
          publicPrefixes: config.public_prefixes,
          maxContentBytes: config.max_content_bytes,
          clock: systemClock,
        })
        // The measured moment: the copy is committed AND recall finds it. Pulled copies reach a
        // commit listener only when it asks for them (`copies`, as the panel's event stream does).
        store.onCommit(
          (changes) => {
            const e = expecting
            if (!e || e.arrivals[i] !== null) return
            if (!changes.some((c) => c.op === 'insert' && c.origin_peer !== null)) return
            if (!store.recall(e.token, 1).some((h) => h.content.includes(e.token))) return
            e.arrivals[i] = now()
            if (--e.left === 0) e.done()
          },
          { copies: true },
        )
        const loop = createSyncLoop({
          selfId: identity.podId,
          listPeers: () => peers.list().peers,
          getPeer: (id) => peers.get(id),
          pairKey: (id, key) => identity.pairKey(id, key),
          store,
          clock: systemClock,
          log,
          intervalMs: () => 300_000,
          resolveUrl: async (p) => p.url || null,
          liveWaitSeconds: 50,
        })
        loop.start()
        s.store = store
        s.loop = loop
      }
      await announce({ started })
    } else if (cmd.op === 'expect') {
      expecting = { token: cmd.token, arrivals: Array.from({ length: started }, () => null), left: started, done: () => {} }
      await announce({ ready: true })
    } else if (cmd.op === 'collect') {
      const e = expecting
      const deadline = Date.now() + TRIAL_TIMEOUT_MS
      while (e && e.left > 0 && Date.now() < deadline) await Bun.sleep(1)
      expecting = null
      await announce({ arrivals: e?.arrivals ?? [] })
    } else if (cmd.op === 'stop') {
      await Promise.all(spokes.map((s) => s.loop?.close()))
      for (const s of spokes) {
        s.store?.close()
        rmSync(s.home.paths.root, { recursive: true, force: true })
      }
      await announce({ stopped: true })
      process.exit(0)
    }
  }
}

/** The hub's held long-polls, from its /metrics gauge. */
async function held(hub: PodProcess): Promise<number> {
  const res = await fetch(`${hub.url}/metrics`, { headers: { authorization: `Bearer ${hub.token()}` } })
  const m = /^mazemaker_live_held_requests (\d+)/m.exec(await res.text())
  return m ? Number(m[1]) : 0
}

async function untilHeld(hub: PodProcess, n: number, timeoutMs = 300_000): Promise<number> {
  const t = performance.now()
  while ((await held(hub)) < n) {
    if (performance.now() - t > timeoutMs) throw new Error(`only ${await held(hub)} of ${n} long-polls held after ${timeoutMs} ms`)
    // /metrics renders every peer: asking often would load the hub we measure.
    await Bun.sleep(n > 100 ? 1000 : 100)
  }
  return performance.now() - t
}

/** One write at the hub; per-spoke latency in ms (write sent → recall finds it). */
async function trial(hub: PodProcess, children: Child[], k: number): Promise<number[]> {
  const token = `livetoken${k}x${Math.floor(Math.random() * 1e9)}`
  for (const c of children) c.send(JSON.stringify({ op: 'expect', token }))
  await Promise.all(children.map((c) => c.next()))
  const t0 = now()
  const res = await hub.api('POST', '/memories', { label: `public:live-${k}`, content: `bench ${token}` })
  if (res.status !== 201) throw new Error(`POST /memories → ${res.status}`)
  for (const c of children) c.send(JSON.stringify({ op: 'collect' }))
  const arrivals = (await Promise.all(children.map((c) => c.next()))).flatMap((a) => a.arrivals as (number | null)[])
  const missing = arrivals.filter((a) => a === null).length
  if (missing) throw new Error(`trial ${k}: ${missing} of ${arrivals.length} spokes never saw the write within ${TRIAL_TIMEOUT_MS} ms`)
  return (arrivals as number[]).map((a) => a - t0)
}

function describe(lat: number[]): string {
  const s = [...lat].sort((a, b) => a - b)
  return `p50 ${fmt(percentile(s, 50), 2)} ms, p99 ${fmt(percentile(s, 99), 2)} ms, max ${fmt(s[s.length - 1]!, 1)} ms`
}

async function main(): Promise<void> {
  console.log(`# live federation: hub + up to ${MAX_SPOKES} live spokes in ${CHILDREN} processes (Bun ${Bun.version}; ${loadNote()})`)
  const dir = mkdtempSync(join(tmpdir(), 'mzm-live-bench-'))
  const hub = await spawnPod({ home: tempHome('mzm-live-hub-'), env: LIVE_ENV })
  const children: Child[] = []
  try {
    const hubId = await identityOf(hub)
    const hubInfo = { id: hubId.pod_id as PodId, key: hubId.key as PublicKey, url: hub.url }
    let t = performance.now()
    await Promise.all(
      Array.from({ length: CHILDREN }, async (_, c) => {
        const count = Math.floor(MAX_SPOKES / CHILDREN) + (c < MAX_SPOKES % CHILDREN ? 1 : 0)
        const file = join(dir, `spokes-${c}.json`)
        writeFileSync(file, JSON.stringify({ count, hub: hubInfo }))
        children[c] = await spawnChild(import.meta.path, [CHILD_FLAG, file], 600_000)
      }),
    )
    const spokes = children.flatMap((c) => c.ready.spokes as { id: PodId; key: PublicKey }[])
    // The hub trusts every spoke (serves them; does not pull from them): its peers.toml and key
    // files written once, as an operator's provisioning script would (the pod reads them live).
    const paths = homePaths(hub.home)
    for (const s of spokes) writeFileAtomic(join(paths.peerKeyDir, `${s.id}.key`), `${s.key}\n`, 0o600)
    writeFileAtomic(
      paths.peersToml,
      formatPeersToml(
        spokes.map((s) => ({ id: s.id, name: '', url: '', sync: false, scope: ['public:*'] })),
        hubInfo.id,
      ),
      0o600,
    )
    console.log(`  (${spokes.length} spoke homes ready in ${fmt((performance.now() - t) / 1000)} s)`)

    // Baseline: one spoke's pull of one write with a plain (non-live) sync, measured in-process here.
    const base = await baseline(hub, hubInfo)
    console.log('\n## baseline: write at H, then one normal pull (sync-now semantics) by one puller, recall finds it')
    row('write → pulled → recall', describe(base))

    let oneP50 = 0
    for (const n of PHASES) {
      const perChild = Math.ceil(n / CHILDREN)
      // Spread the phase's spokes over the children: child c starts up to its share.
      t = performance.now()
      for (const [c, child] of children.entries()) child.send(JSON.stringify({ op: 'start', upTo: n === 1 ? (c === 0 ? 1 : 0) : perChild }))
      const started = (await Promise.all(children.map((c) => c.next()))).reduce((s, a) => s + a.started, 0)
      await untilHeld(hub, started)
      console.log(`\n## ${started} live spoke${started === 1 ? '' : 's'} (all long-polls held after ${fmt((performance.now() - t) / 1000, 1)} s)`)
      const trials = TRIALS[n] ?? 10
      const all: number[] = []
      const last: number[] = []
      let hubCpu = 0
      for (let k = 0; k < trials; k++) {
        const cpu0 = cpuSeconds(hub.pid)
        const lat = await trial(hub, children, k + n * 1000)
        hubCpu += cpuSeconds(hub.pid) - cpu0
        all.push(...lat)
        last.push(Math.max(...lat))
        // Every spoke holds again before the next write (their next long-poll is back at H).
        await untilHeld(hub, started)
      }
      if (started === 1)
        oneP50 = percentile(
          [...all].sort((a, b) => a - b),
          50,
        )
      row(`write → recall at a spoke (${trials} trials × ${started})`, describe(all))
      if (started > 1) {
        row('write → EVERY spoke has it (per trial)', describe(last))
        row(
          '  ratio p50 (every spoke) to 1 live spoke',
          `${fmt(
            percentile(
              [...last].sort((a, b) => a - b),
              50,
            ) / oneP50,
            1,
          )}x`,
        )
      } else {
        row(
          '  ratio p50 to the sync-now baseline',
          `${fmt(
            oneP50 /
              percentile(
                [...base].sort((a, b) => a - b),
                50,
              ),
            2,
          )}x`,
        )
      }
      row(
        'hub CPU per write (serving every spoke)',
        `${fmt((hubCpu / trials) * 1000, 1)} ms`,
        `${fmt((hubCpu / trials / started) * 1000, 3)} ms per spoke answered (10 ms clock ticks)`,
      )
      row('hub RSS', `${fmt(rssMb(hub.pid), 0)} MB`, `with ${await held(hub)} requests held`)
    }

    const n = await held(hub)
    const cpu0 = cpuSeconds(hub.pid)
    const rss0 = rssMb(hub.pid)
    await Bun.sleep(IDLE_S * 1000)
    const cpu = cpuSeconds(hub.pid) - cpu0
    console.log(`\n## idle hub holding ${n} long-polls for ${IDLE_S} s (each re-asks once its 50 s wait ends)`)
    row('hub CPU', `${fmt((cpu / IDLE_S) * 100, 2)} % of one core`, `${fmt(cpu, 2)} CPU s over ${IDLE_S} s`)
    row(
      'hub RSS',
      `${fmt(rssMb(hub.pid), 0)} MB`,
      `${fmt(rss0, 0)} MB at the start of the idle window; ${fmt(((rssMb(hub.pid) - 0) * 1024) / Math.max(1, n), 0)} KiB per held request (upper bound: whole RSS / held)`,
    )
    console.log(`\n(${loadNote()})`)
  } finally {
    for (const c of children) c.send(JSON.stringify({ op: 'stop' }))
    await Promise.all(children.map((c) => c.next().catch(() => undefined)))
    await Promise.all(children.map((c) => c.stop()))
    await hub.stop().catch(() => undefined)
    rmSync(hub.home, { recursive: true, force: true })
    rmSync(dir, { recursive: true, force: true })
  }
}

/** What the same write costs without live: write at H, then one normal pull, recall. */
async function baseline(hub: PodProcess, hubInfo: { id: PodId; key: PublicKey; url: string }): Promise<number[]> {
  const log = createLogger({ level: 'warn' })
  const home = await openHome(tempHome('mzm-live-base-'), { log })
  home.peers.add({ id: hubInfo.id, key: hubInfo.key, url: hubInfo.url })
  const res = await hub.api('POST', '/peer/add', { handshake_url: home.identity.handshakeUrl(), direct_url: 'http://127.0.0.1:9', sync: false })
  if (res.status !== 201 && res.status !== 200) throw new Error(`baseline peer add → ${res.status}`)
  const store = openStore({
    path: home.paths.db,
    vaultKey: home.identity.vaultKey,
    publicPrefixes: home.config.public_prefixes,
    maxContentBytes: home.config.max_content_bytes,
    clock: systemClock,
  })
  const loop = createSyncLoop({
    selfId: home.identity.podId,
    listPeers: () => home.peers.list().peers,
    getPeer: (id) => home.peers.get(id),
    pairKey: (id, key) => home.identity.pairKey(id, key),
    store,
    clock: systemClock,
    log,
    intervalMs: () => 300_000,
    resolveUrl: async (p) => p.url || null,
    liveWaitSeconds: 0,
  })
  const out: number[] = []
  try {
    await loop.syncNow()
    for (let k = 0; k < 50; k++) {
      const token = `basetoken${k}x${Math.floor(Math.random() * 1e9)}`
      const t0 = now()
      const r = await hub.api('POST', '/memories', { label: `public:base-${k}`, content: `bench ${token}` })
      if (r.status !== 201) throw new Error(`POST /memories → ${r.status}`)
      await loop.syncNow()
      if (!store.recall(token, 1).some((h) => h.content.includes(token))) throw new Error('baseline: recall did not find the write')
      out.push(now() - t0)
    }
  } finally {
    await loop.close()
    store.close()
    await hub.api('DELETE', `/peer/peers/${home.identity.podId}`)
    rmSync(home.paths.root, { recursive: true, force: true })
  }
  return out
}

if (process.argv[2] === CHILD_FLAG) await spokesChild(process.argv[3]!)
else await main()
