/**
 * Shared bits for the federation benchmarks: filling a pod's home fast (before its process
 * starts), reading back the exact pages it would serve, pairing real pod processes over the
 * admin API, timing sync-now, and child processes that announce themselves with one JSON line.
 * Everything talks to 127.0.0.1 only, and every process is ended by its own PID.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { homePaths, openHome, type PodHome, type PodId, type PublicKey } from '../src/identity'
import { formatPeersToml } from '../src/identity/peers-toml'
import { writeFileAtomic } from '../src/lib/atomic-file'
import { openStore, type ChangePage } from '../src/store'
import { systemClock } from '../src/lib/clock'
import { memoryLogger } from '../src/lib/log'
// Bench-only reach into the store's private modules: the public Store has no batch insert, and
// one transaction per remember() makes a 200k-row fill take minutes on a shared 2-core box.
// remember() itself is the real code path (vault, blind index, seq, FTS), just batched.
import { openDatabase } from '../src/store/database'
import { createContext } from '../src/store/_context'
import { createVault } from '../src/store/vault'
import { createBlindIndex } from '../src/store/blind-index'
import { remember } from '../src/store/local-memories'
import { MAIN, spawnPod, tempHome, type PodProcess } from '../test/helpers/pod-process'

export const FILL_BATCH_ROWS = 500
/** USER_HZ of /proc/<pid>/stat times (`getconf CLK_TCK`; 100 on Linux). */
const CLOCK_TICKS_PER_S = 100
const WORDS =
  'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu'.split(
    ' ',
  )

/** A memory body of ~70 bytes with some word variety (same generator as foundation.bench.ts). */
export function sentence(i: number): string {
  const w = (k: number) => WORDS[(i * 7 + k * 13 + ((i >> k) & 7)) % WORDS.length]
  return `memory ${i}: ${w(1)} ${w(2)} ${w(3)} notes about ${w(4)} and ${w(5)} word${i % 997}`
}

/** Integer from the environment (for scaled-down smoke runs), else `fallback`. */
export function envInt(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${raw}`)
  return n
}

export async function openBenchHome(home: string): Promise<PodHome> {
  return openHome(home, { log: memoryLogger() })
}

/** What fillHome writes with: this tree's modules, or another tree's (fillModulesOf). */
export interface FillModules {
  openHome: typeof openHome
  openDatabase: typeof openDatabase
  createContext: typeof createContext
  createVault: typeof createVault
  createBlindIndex: typeof createBlindIndex
  remember: typeof remember
}

const THIS_TREE: FillModules = { openHome, openDatabase, createContext, createVault, createBlindIndex, remember }

/**
 * The fill modules of the tree whose src/ is `srcRoot` (e.g. an earlier commit exported beside
 * this one), so its home has the schema that tree writes, which every later tree can open.
 */
export async function fillModulesOf(srcRoot: string): Promise<FillModules> {
  const from = (path: string) => import(join(srcRoot, path))
  const [identity, database, context, vault, blind, local] = await Promise.all(
    ['identity/index.ts', 'store/database.ts', 'store/_context.ts', 'store/vault.ts', 'store/blind-index.ts', 'store/local-memories.ts'].map(from),
  )
  return {
    openHome: identity.openHome,
    openDatabase: database.openDatabase,
    createContext: context.createContext,
    createVault: vault.createVault,
    createBlindIndex: blind.createBlindIndex,
    remember: local.remember,
  }
}

/**
 * Creates (or opens) a home and inserts `publicN` shareable and `privateN` private (vault-encrypted)
 * memories through the store's own remember(), FILL_BATCH_ROWS per transaction. The pod process
 * must not be running on this home. `modules`: another tree's code to write with (fillModulesOf).
 */
export async function fillHome(
  home: string,
  counts: { publicN: number; privateN: number },
  opts: { label?: (i: number, isPublic: boolean) => string; modules?: FillModules } = {},
): Promise<PodHome> {
  const labelOf = opts.label ?? ((i: number, isPublic: boolean) => `${isPublic ? 'public' : 'note'}:m${i}`)
  const m = opts.modules ?? THIS_TREE
  const h = await m.openHome(home, { log: memoryLogger() })
  const db = m.openDatabase(h.paths.db)
  const ctx = m.createContext({
    db,
    vault: m.createVault(h.identity.vaultKey),
    blind: m.createBlindIndex(h.identity.vaultKey),
    clock: systemClock,
    publicPrefixes: h.config.public_prefixes,
    maxContentBytes: h.config.max_content_bytes,
  })
  try {
    const total = counts.publicN + counts.privateN
    let publicLeft = counts.publicN
    let privateLeft = counts.privateN
    for (let start = 0; start < total; start += FILL_BATCH_ROWS) {
      // Nested in one IMMEDIATE transaction: remember()'s own transactions become savepoints.
      db.transaction(() => {
        for (let i = start; i < Math.min(total, start + FILL_BATCH_ROWS); i++) {
          // Interleaved, so private rows sit between shareable ones in the change sequence.
          const isPublic = privateLeft === 0 || (publicLeft > 0 && i % 2 === 0)
          if (isPublic) publicLeft--
          else privateLeft--
          m.remember(ctx, { label: labelOf(i, isPublic), content: sentence(i) })
        }
      }).immediate()
    }
    // As a pod's own writes leave them: scanned for credentials at write (POST /memories, MCP). The
    // store-level remember used here does not scan, and a pod started on unscanned rows spends its
    // first seconds on the one-time backfill, during whatever is measured.
    if (db.query("SELECT 1 FROM pragma_table_info('memories') WHERE name = 'scanned'").get()) db.exec('UPDATE memories SET scanned = 1')
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
  } finally {
    db.close()
  }
  return h
}

/** The pages a pod on `home` serves a puller with scope `public:*`, exactly as /peer/sync encodes them. */
export function servedPages(h: PodHome, limit: number): { pod_id: string; cursor: string; more: boolean; memories: ChangePage['memories'] }[] {
  const store = openStore({
    path: h.paths.db,
    vaultKey: h.identity.vaultKey,
    publicPrefixes: h.config.public_prefixes,
    maxContentBytes: h.config.max_content_bytes,
    clock: systemClock,
  })
  try {
    const pages = []
    let since: string | null = null
    for (;;) {
      const page = store.changesSince(since, ['public:*'], limit)
      pages.push({ pod_id: h.identity.podId, cursor: page.cursor, more: page.more, memories: page.memories })
      if (!page.more) return pages
      since = page.cursor
    }
  } finally {
    store.close()
  }
}

export async function identityOf(pod: PodProcess): Promise<{ pod_id: string; handshake_url: string; key: string }> {
  const res = await pod.api('GET', '/peer/identity')
  if (res.status !== 200) throw new Error(`GET /peer/identity → ${res.status}`)
  return res.body
}

/** `pod` adds a peer by handshake URL (POST /peer/add); throws unless 201. */
export async function addPeer(pod: PodProcess, handshakeUrl: string, opts: { direct_url?: string; sync?: boolean; scope?: string } = {}): Promise<void> {
  const res = await pod.api('POST', '/peer/add', { handshake_url: handshakeUrl, ...opts })
  if (res.status !== 201) throw new Error(`POST /peer/add → ${res.status} ${JSON.stringify(res.body)}`)
}

export interface SyncRound {
  ms: number
  results: { peer: string; ok: boolean; fetched: number; stored: number; deleted: number; ms: number; error?: string; detail?: string }[]
}

/** POST /peer/sync-now on `pod` and the wall time until its answer (the whole round). */
export async function timedSyncNow(pod: PodProcess, peer?: string): Promise<SyncRound> {
  const t = performance.now()
  const res = await pod.api('POST', '/peer/sync-now', peer ? { peer } : {})
  const ms = performance.now() - t
  if (res.status !== 200) throw new Error(`POST /peer/sync-now → ${res.status} ${JSON.stringify(res.body)}`)
  const failed = res.body.results.filter((r: { ok: boolean }) => !r.ok)
  if (failed.length) throw new Error(`sync-now: ${failed.length} peer(s) failed, first: ${JSON.stringify(failed[0])}`)
  return { ms, results: res.body.results }
}

export interface Child {
  pid: number
  /** The JSON line the child printed once ready. */
  ready: any
  /** Sends one line to the child's stdin. */
  send(line: string): void
  /** The next JSON line the child prints (e.g. its result). */
  next(): Promise<any>
  /** SIGTERM (this PID only) and wait for exit. */
  stop(): Promise<void>
}

/**
 * Runs `bun <script> <args>` and waits for its first stdout line (JSON). stderr is inherited so a
 * child's failure is visible. `timeoutMs` bounds the wait for the ready line.
 */
export async function spawnChild(script: string, args: string[], timeoutMs = 120_000): Promise<Child> {
  const proc = Bun.spawn([process.execPath, script, ...args], { stdin: 'pipe', stdout: 'pipe', stderr: 'inherit' })
  const reader = proc.stdout.getReader()
  const decoder = new TextDecoder()
  let buffered = ''
  const nextLine = async (): Promise<any> => {
    for (;;) {
      const nl = buffered.indexOf('\n')
      if (nl >= 0) {
        const line = buffered.slice(0, nl)
        buffered = buffered.slice(nl + 1)
        return JSON.parse(line)
      }
      const { value, done } = await reader.read()
      if (done) throw new Error(`child ${script} ${args[0] ?? ''} (pid ${proc.pid}) exited (code ${proc.exitCode}) without a line`)
      buffered += decoder.decode(value, { stream: true })
    }
  }
  let timer: Timer | undefined
  const ready = await Promise.race([
    nextLine(),
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`child ${script} not ready within ${timeoutMs} ms`)), timeoutMs))),
  ]).finally(() => clearTimeout(timer))
  return {
    pid: proc.pid,
    ready,
    send(line) {
      proc.stdin.write(line + '\n')
      proc.stdin.flush()
    },
    next: nextLine,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM')
      await proc.exited
    },
  }
}

/** Resolves with each line a child receives on stdin (the parent's commands). */
export async function* stdinLines(): AsyncGenerator<string> {
  const decoder = new TextDecoder()
  let buffered = ''
  for await (const chunk of Bun.stdin.stream()) {
    buffered += decoder.decode(chunk, { stream: true })
    let nl: number
    while ((nl = buffered.indexOf('\n')) >= 0) {
      yield buffered.slice(0, nl)
      buffered = buffered.slice(nl + 1)
    }
  }
}

/**
 * One JSON line on stdout, for the parent's spawnChild. Await it before process.exit(): a large
 * line (a generator's latencies) is otherwise cut off in the pipe.
 */
export async function announce(value: unknown): Promise<void> {
  await Bun.write(Bun.stdout, JSON.stringify(value) + '\n')
}

/** "load 1/5/15 min: 3.1 2.4 1.9 on 2 cores": benchmarks on a shared box say how busy it was. */
export function loadNote(): string {
  return `load avg ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} on ${navigator.hardwareConcurrency} cores`
}

/** CPU time (user + system, seconds) a process has used so far, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  return ticksOf(`/proc/${pid}/stat`)
}

/** CPU seconds of the process's main thread alone (its thread id is its pid): where a pull stores its pages. */
export function mainThreadCpuSeconds(pid: number): number {
  return ticksOf(`/proc/${pid}/task/${pid}/stat`)
}

function ticksOf(statFile: string): number {
  const stat = readFileSync(statFile, 'utf8')
  // Fields after the `(comm)` one, which may itself hold spaces: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S
}

/**
 * The command for spawnPod: plain `bun src/main.ts`, or with POD_PROF=<dir> the same under Bun's
 * sampling profiler, writing a CPU profile per pod process into <dir> when it exits: markdown, or
 * with POD_PROF_FORMAT=json a .cpuprofile that bench/profile-top.ts reads (by sample count: the
 * markdown adds a pod's idle stretches to the function sampled after them).
 */
export function podCommand(): string[] | undefined {
  const dir = process.env.POD_PROF
  if (!dir) return undefined
  return [process.execPath, ...profilerFlags(dir), MAIN]
}

/** Bun's sampling profiler flags for POD_PROF=<dir> (and POD_PROF_FORMAT=json). */
export function profilerFlags(dir: string): string[] {
  return [process.env.POD_PROF_FORMAT === 'json' ? '--cpu-prof' : '--cpu-prof-md', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=250']
}

/**
 * Resets a process's peak RSS (VmHWM) to its current RSS (Linux `clear_refs` 5), so the next
 * peakRssMb() reports the peak of what follows rather than of setup. False if not permitted.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5')
    return true
  } catch {
    return false
  }
}

/**
 * A hub pod (`command`, or the default pod command) holding five shareable memories, so the spokes'
 * cursor is a real one past them, and `spokes` spoke pods spread over `children` child processes
 * of `script` (started with `flag` and a config file holding `config`, `count` and `hub`). The hub
 * is then told to trust every spoke as an operator's provisioning script would (key files and
 * peers.toml, read live by the pod); each child answers `ready` with its spokes' ids and keys.
 */
export async function startHubWithSpokes(opts: {
  homePrefix: string
  seedLabel: string
  command?: string[]
  script: string
  flag: string
  dir: string
  hubIndex: number
  spokes: number
  children: number
  config: Record<string, unknown>
}): Promise<{ pod: PodProcess; hub: { id: PodId; key: PublicKey; url: string }; children: Child[] }> {
  const pod = await spawnPod({ home: tempHome(opts.homePrefix), env: { MAZEMAKER_LIVE_WAIT: '0' }, ...(opts.command ? { command: opts.command } : {}) })
  const id = await identityOf(pod)
  const hub = { id: id.pod_id as PodId, key: id.key as PublicKey, url: pod.url }
  for (let i = 0; i < 5; i++) {
    const res = await pod.api('POST', '/memories', { label: `public:${opts.seedLabel}-${i}`, content: `${opts.seedLabel} ${i}` })
    if (res.status !== 201) throw new Error(`seeding the hub: POST /memories → ${res.status}`)
  }
  const config = { ...opts.config, hub }
  const children = await Promise.all(
    Array.from({ length: opts.children }, (_, c) => {
      const file = join(opts.dir, `hub-${opts.hubIndex}-${c}.json`)
      const count = Math.floor(opts.spokes / opts.children) + (c < opts.spokes % opts.children ? 1 : 0)
      writeFileSync(file, JSON.stringify({ count, ...config }))
      return spawnChild(opts.script, [opts.flag, file], 600_000)
    }),
  )
  const spokes = children.flatMap((c) => c.ready.spokes as { id: PodId; key: PublicKey }[])
  const paths = homePaths(pod.home)
  for (const s of spokes) writeFileAtomic(join(paths.peerKeyDir, `${s.id}.key`), `${s.key}\n`, 0o600)
  const peers = spokes.map((s) => ({ id: s.id, name: '', url: '', sync: false, scope: ['public:*'] }))
  writeFileAtomic(paths.peersToml, formatPeersToml(peers, hub.id), 0o600)
  return { pod, hub, children }
}
