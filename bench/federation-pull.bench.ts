/**
 * Pull throughput: pod B pulls N shareable memories from pod A (which also
 * holds N private ones), both real processes on loopback. Measured: wall time of POST
 * /peer/sync-now on B, the time until every copy is searchable (a recall after it), memories/s,
 * CPU seconds and peak RSS (VmHWM) of each pod, and B's CPU after that until it settles (the
 * upkeep a bulk pull puts off: FTS5 merges, the WAL checkpoint).
 *
 * Anchors, in the same run:
 * - Floor, over the very pages A serves: bun:sqlite insert of the same rows (one transaction per
 *   500-entry page) + JSON encode and decode of those pages + one loopback HTTP transfer of them
 *   from a bare Bun.serve child process, one step after the other. With full-text rows two ways:
 *   an FTS5 row after each insert (the floor as earlier runs measured it; FTS5 then writes a
 *   segment per row) and the page's FTS5 rows together after its inserts. The floor runs before
 *   and after the pods; the faster run counts (a conservative ratio on a shared machine).
 * - PouchDB 9 (POUCHDB=0 skips it): the same N documents replicated by replicate() with
 *   batch_size 1000 from a LevelDB PouchDB served by express-pouchdb into a new LevelDB PouchDB,
 *   two Node processes on loopback (bench/pouchdb, installed on first use with npm ci). PouchDB
 *   builds no full-text index, so its "searchable" is just "replicated": that favours PouchDB.
 * - The pods of an earlier commit (BEFORE_REF=<commit>, e.g. main before a change): exported
 *   with git archive and run from source, so before and after are in one run. A is filled with
 *   the earlier commit's code (the older schema, which this tree migrates when it opens it) and
 *   each tree's A runs on its own copy of that home.
 *
 * The pods run under Bun and then under Deno (RUNTIME=bun|deno|both, default both), against the
 * same A home and the same floor, so the two runtimes are compared in one run; every pod
 * configuration runs ROUNDS times (default 2), alternating, and the best of each figure counts. CPU seconds are
 * the figures to compare on a loaded machine; wall times are printed with the load average.
 * MAZEMAKER_UNSAFE_NO_FSYNC is not set: pods commit as they ship (pulled pages unsynced).
 * SERVE_RUNTIME=bun|deno runs every A under that runtime whatever B's: what the serving pod's
 * CPU, on the same two cores, does to the puller beside it.
 *
 *   npx bun bench/federation-pull.bench.ts                      # N=100000
 *   N=10000 POUCHDB=0 ROUNDS=1 npx bun bench/federation-pull.bench.ts    # smoke run
 *   RUNTIME=bun BEFORE_REF=main npx bun bench/federation-pull.bench.ts
 */
import { Database } from 'bun:sqlite'
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PAGE_LIMIT } from '../src/sync/constants'
import { DENO, MAIN, spawnPod, tempHome, type PodProcess, type TestRuntime } from '../test/helpers/pod-process'
import { benchRuntimes, fmt, peakRssMb, row, rssMb } from './_util'
import {
  addPeer,
  announce,
  cpuSeconds,
  mainThreadCpuSeconds,
  envInt,
  fillHome,
  fillModulesOf,
  identityOf,
  loadNote,
  openBenchHome,
  podCommand,
  resetPeakRss,
  servedPages,
  spawnChild,
  timedSyncNow,
  type Child,
} from './_fed-util'

const CHILD_FLAG = '--child=pages'
const N = envInt('N', 100_000)
const SERVE_RUNTIME = ((v) => {
  if (v === undefined || v === 'bun' || v === 'deno') return v
  throw new Error(`SERVE_RUNTIME must be bun or deno, got ${v}`)
})(process.env.SERVE_RUNTIME)
const TARGET_RATIO = 3
/** Each pod configuration is measured this many times, alternating; the best of each figure counts. */
const ROUNDS = envInt('ROUNDS', 2)
const ROOT = join(import.meta.dir, '..')
const POUCH_DIR = join(import.meta.dir, 'pouchdb')

type Page = ReturnType<typeof servedPages>[number]

/** Child: a bare Bun.serve answering GET /<i> with encoded page i, read from a JSON-lines file. */
async function pagesChild(file: string): Promise<void> {
  const texts = (await Bun.file(file).text()).split('\n').filter(Boolean)
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch(req) {
      const text = texts[Number(new URL(req.url).pathname.slice(1))]
      return text === undefined ? new Response('no such page', { status: 404 }) : new Response(text, { headers: { 'content-type': 'application/json' } })
    },
  })
  await announce({ url: `http://127.0.0.1:${server.port}` })
  process.once('SIGTERM', () => {
    server.stop(true)
    process.exit(0)
  })
}

interface Floor {
  insertS: number
  jsonS: number
  httpS: number
  totalS: number
  cpuS: number
  /** The same insert plus an FTS5 row after each memory's insert (FTS5 then writes a segment per row). */
  insertFtsS: number
  /** The same insert plus each page's FTS5 rows together after its inserts. */
  insertFtsBatchedS: number
}

async function measureFloor(pages: Page[], dir: string, child: Child, peerId: string): Promise<Floor> {
  const cpu0 = process.cpuUsage()
  const childCpu0 = cpuSeconds(child.pid)

  // 1. One loopback HTTP transfer of every page, in order, body read as text (as the puller does).
  let t = performance.now()
  for (let i = 0; i < pages.length; i++) {
    const res = await fetch(`${child.ready.url}/${i}`)
    if (!res.ok || (await res.text()).length === 0) throw new Error(`floor page ${i} → ${res.status}`)
  }
  const httpS = (performance.now() - t) / 1000

  // 2. JSON: encode each page (serving side) and decode it (pulling side).
  t = performance.now()
  let decoded = 0
  for (const page of pages) decoded += (JSON.parse(JSON.stringify(page)) as Page).memories.length
  const jsonS = (performance.now() - t) / 1000
  if (decoded !== N) throw new Error(`floor decoded ${decoded} entries, expected ${N}`)

  // 3. bun:sqlite insert of the same rows, one transaction per page, the pod's connection PRAGMAs.
  const insert = (fts: 'none' | 'each' | 'page'): number => {
    const withFts = fts !== 'none'
    const path = join(dir, `floor-${fts}.db`)
    const db = new Database(path, { create: true, strict: true })
    db.run('PRAGMA journal_mode = WAL')
    db.run('PRAGMA synchronous = NORMAL')
    db.run(
      'CREATE TABLE m (pk INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, label TEXT NOT NULL, content TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)',
    )
    if (withFts) db.run("CREATE VIRTUAL TABLE f USING fts5 (label, body, content = '', contentless_delete = 1)")
    const ins = db.prepare('INSERT INTO m (id, label, content, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING pk')
    const ftsInsert = withFts ? db.prepare('INSERT INTO f (rowid, label, body) VALUES (?, ?, ?)') : null
    const prefix = `peer:${peerId}:`
    const start = performance.now()
    for (const page of pages) {
      db.transaction(() => {
        const later: [number, string, string][] = []
        for (const e of page.memories) {
          if ('deleted' in e) continue
          const { pk } = ins.get(e.id, prefix + e.label, e.content, e.created_at, e.updated_at) as { pk: number }
          if (fts === 'each') ftsInsert?.run(pk, prefix + e.label, e.content)
          else if (fts === 'page') later.push([pk, prefix + e.label, e.content])
        }
        for (const [pk, label, content] of later) ftsInsert?.run(pk, label, content)
      })()
    }
    const s = (performance.now() - start) / 1000
    db.close()
    rmSync(path, { force: true })
    return s
  }
  const insertS = insert('none')
  const cpu1 = process.cpuUsage(cpu0)
  const cpuS = (cpu1.user + cpu1.system) / 1e6 + (cpuSeconds(child.pid) - childCpu0)
  const insertFtsS = insert('each')
  const insertFtsBatchedS = insert('page')
  return { insertS, jsonS, httpS, totalS: insertS + jsonS + httpS, cpuS, insertFtsS, insertFtsBatchedS }
}

/** Where a pod's source comes from: this tree, or an earlier commit exported beside it. */
interface Tree {
  name: string
  main: string
  /** The tree's src/ (fillModulesOf), and A's home for this tree's runs (a copy of the filled one). */
  src: string
  homeA: string
}

interface PodRun {
  runtime: TestRuntime
  tree: string
  podS: number
  searchableS: number
  cpu: { a: number; b: number }
  cpuSearchableB: number
  /** B's main thread until every copy is searchable: the pull's critical path (its threads help beside it). */
  cpuMainB: number
  /** B's CPU once every copy is searchable, until it settles (what the pull put off), and how long that took. */
  upkeepB: { cpuS: number; s: number }
  rss: { a: number; b: number }
  rssBefore: { a: number; b: number }
  hwmReset: boolean
}

/**
 * The CPU a pod spends once its pull is searchable, until it settles (under 5 ms of CPU in
 * 200 ms; at most 10 s): what the pull put off (FTS5 merges, the WAL checkpoint), so it is
 * counted, not hidden.
 */
async function upkeepAfter(pid: number): Promise<{ cpuS: number; s: number }> {
  const start = performance.now()
  const cpu0 = cpuSeconds(pid)
  let last = cpu0
  while (performance.now() - start < 10_000) {
    await Bun.sleep(200)
    const now = cpuSeconds(pid)
    if (now - last < 0.005) break
    last = now
  }
  return { cpuS: last - cpu0, s: (performance.now() - start - 200) / 1000 }
}

/** A (on the filled home) and a fresh B under `runtime`; B pulls everything once. Both stopped after. */
async function measurePods(runtime: TestRuntime, tree: Tree, homes: string[], pods: PodProcess[]): Promise<PodRun> {
  // POD_PROF profiles Bun pods of this tree only (bun --cpu-prof-md; POD_PROF_FORMAT=json: --cpu-prof).
  // DENO_PROF=1 runs Deno pods of this tree under V8's --prof (isolate-*.log in the repository's root; `node --prof-process` reads them).
  const denoProf = process.env.DENO_PROF ? [DENO, 'run', '-A', '--v8-flags=--prof', MAIN] : undefined
  const commandFor = (rt: TestRuntime) =>
    tree.main !== MAIN ? (rt === 'bun' ? [process.execPath, tree.main] : [DENO, 'run', '-A', tree.main]) : rt === 'bun' ? podCommand() : denoProf
  const serveRuntime = SERVE_RUNTIME ?? runtime
  const a = await spawnPod({ home: tree.homeA, command: commandFor(serveRuntime), runtime: serveRuntime })
  pods.push(a)
  const b = await spawnPod({ home: tempHome('mzm-fed-pull-b-'), command: commandFor(runtime), runtime })
  pods.push(b)
  homes.push(b.home)
  try {
    const [idA, idB] = await Promise.all([identityOf(a), identityOf(b)])
    // A must trust B to serve it; sync=false so A never pulls from B during the run. B's loop
    // already ran its boot tick (no peers then) and sleeps sync_interval: only sync-now pulls.
    // A's home is reused by the next runtime: B's id differs each time, so the peer is new.
    await addPeer(a, idB.handshake_url, { sync: false })
    await addPeer(b, idA.handshake_url, { direct_url: a.url })

    // Peak RSS of the sync itself: VmHWM restarts from the current RSS here.
    const hwmReset = resetPeakRss(a.pid) && resetPeakRss(b.pid)
    const rssBefore = { a: rssMb(a.pid), b: rssMb(b.pid) }
    const cpuBefore = { a: cpuSeconds(a.pid), b: cpuSeconds(b.pid), mainB: mainThreadCpuSeconds(b.pid) }
    const round = await timedSyncNow(b, idA.pod_id)
    const cpu = { a: cpuSeconds(a.pid) - cpuBefore.a, b: cpuSeconds(b.pid) - cpuBefore.b }
    // Copies get their full-text rows after the pull (background indexer); a recall drains what
    // is left, so sync + this recall = the time until every copy is searchable.
    const recallStart = performance.now()
    const probe = await b.api('GET', `/recall?q=${encodeURIComponent('memory')}&k=1`)
    if (probe.status !== 200 || probe.body.results.length === 0) throw new Error('recall after the pull found nothing')
    const searchableS = round.ms / 1000 + (performance.now() - recallStart) / 1000
    const cpuSearchableB = cpuSeconds(b.pid) - cpuBefore.b
    const cpuMainB = mainThreadCpuSeconds(b.pid) - cpuBefore.mainB
    const rss = { a: peakRssMb(a.pid), b: peakRssMb(b.pid) }
    const upkeepB = await upkeepAfter(b.pid)
    const result = round.results[0]!
    if (result.fetched !== N || result.stored !== N) throw new Error(`${runtime}: B fetched ${result.fetched} / stored ${result.stored}, expected ${N}`)
    return { runtime, tree: tree.name, podS: round.ms / 1000, searchableS, cpu, cpuSearchableB, cpuMainB, upkeepB, rss, rssBefore, hwmReset }
  } finally {
    await Promise.all([a.stop(), b.stop()])
    pods.splice(0, pods.length, ...pods.filter((p) => p !== a && p !== b))
  }
}

interface PouchRun {
  wallS: number
  /** CPU seconds of the serving process during the replication, and of the replicating one. */
  cpu: { server: number; client: number }
}

/** Runs `node pouchdb.cjs <args>` and resolves with its first JSON line (and the child). */
async function nodeChild(args: string[]): Promise<{ line: any; proc: ReturnType<typeof Bun.spawn> }> {
  const proc = Bun.spawn(['node', join(POUCH_DIR, 'pouchdb.cjs'), ...args], { stdout: 'pipe', stderr: 'inherit', stdin: 'ignore' })
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader()
  let text = ''
  while (!text.includes('\n')) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`node pouchdb.cjs ${args[0]} (pid ${proc.pid}) exited (code ${proc.exitCode}) without a line`)
    text += new TextDecoder().decode(value)
  }
  reader.releaseLock()
  return { line: JSON.parse(text.slice(0, text.indexOf('\n'))), proc }
}

/** PouchDB 9 replicate() of the same documents over loopback, batch_size 1000 (two Node processes). */
async function measurePouch(pagesFile: string, dir: string): Promise<PouchRun> {
  if (!existsSync(join(POUCH_DIR, 'node_modules', 'pouchdb'))) {
    console.log('  (installing PouchDB for the anchor: npm ci --prefix bench/pouchdb)')
    execFileSync('npm', ['ci', '--prefix', POUCH_DIR, '--no-audit', '--no-fund'], { stdio: 'inherit' })
  }
  const serveDir = join(dir, 'pouch-serve')
  const pullDir = join(dir, 'pouch-pull')
  mkdirSync(serveDir)
  mkdirSync(pullDir)
  const t = performance.now()
  const server = await nodeChild(['serve', pagesFile, serveDir])
  try {
    if (server.line.docs !== N) throw new Error(`PouchDB source holds ${server.line.docs} documents, expected ${N}`)
    console.log(`  (filled the PouchDB source in ${fmt((performance.now() - t) / 1000)} s)`)
    const serverCpu0 = cpuSeconds(server.proc.pid)
    const client = await nodeChild(['replicate', server.line.url, pullDir])
    await client.proc.exited
    if (client.line.written !== N) throw new Error(`PouchDB replicated ${client.line.written} documents, expected ${N}`)
    return { wallS: client.line.ms / 1000, cpu: { server: cpuSeconds(server.proc.pid) - serverCpu0, client: client.line.cpuS } }
  } finally {
    server.proc.kill('SIGTERM')
    await server.proc.exited
  }
}

/** The best of each figure over the rounds of one configuration (the least disturbed by the machine's other work). */
function best(rounds: PodRun[]): PodRun {
  const min = (f: (r: PodRun) => number) => Math.min(...rounds.map(f))
  return {
    ...rounds[0]!,
    podS: min((r) => r.podS),
    searchableS: min((r) => r.searchableS),
    cpu: { a: min((r) => r.cpu.a), b: min((r) => r.cpu.b) },
    cpuSearchableB: min((r) => r.cpuSearchableB),
    cpuMainB: min((r) => r.cpuMainB),
    upkeepB: { cpuS: min((r) => r.upkeepB.cpuS), s: min((r) => r.upkeepB.s) },
    rss: { a: min((r) => r.rss.a), b: min((r) => r.rss.b) },
  }
}

/** This tree, and the commit BEFORE_REF names exported beside it (git archive), if set. */
function trees(dir: string): Tree[] {
  const out: Tree[] = [{ name: 'this tree', main: MAIN, src: join(ROOT, 'src'), homeA: '' }]
  const ref = process.env.BEFORE_REF
  if (!ref) return out
  const commit = execFileSync('git', ['-C', ROOT, 'rev-parse', ref], { encoding: 'utf8' }).trim()
  const baseDir = join(dir, 'before')
  mkdirSync(baseDir)
  execFileSync('sh', ['-c', `git -C "${ROOT}" archive ${commit} src package.json tsconfig.json deno.json | tar -x -C "${baseDir}"`])
  symlinkSync(join(ROOT, 'node_modules'), join(baseDir, 'node_modules'))
  out.push({ name: `before (${commit.slice(0, 10)})`, main: join(baseDir, 'src', 'main.ts'), src: join(baseDir, 'src'), homeA: '' })
  return out
}

async function main(): Promise<void> {
  console.log(`# federation pull: ${N} shareable + ${N} private memories on A; B pulls (Bun ${Bun.version}; ${loadNote()})`)
  const dir = mkdtempSync(join(tmpdir(), 'mzm-fed-pull-'))
  const homeA = tempHome('mzm-fed-pull-a-')
  const homes = [homeA]
  const pods: PodProcess[] = []
  let child: Child | null = null
  try {
    const t = performance.now()
    const treeList = trees(dir)
    // Filled by the oldest tree: every tree can open its schema. Each tree's A gets its own copy.
    const oldest = treeList[treeList.length - 1]!
    await fillHome(homeA, { publicN: N, privateN: N }, { modules: await fillModulesOf(oldest.src) })
    for (const tree of treeList) {
      tree.homeA = tempHome('mzm-fed-pull-a-')
      cpSync(homeA, tree.homeA, { recursive: true })
      homes.push(tree.homeA)
    }
    const pages = servedPages(await openBenchHome(treeList[0]!.homeA), PAGE_LIMIT)
    console.log(`  (filled A in ${fmt((performance.now() - t) / 1000)} s; ${pages.length} pages of up to ${PAGE_LIMIT})`)
    const pagesFile = join(dir, 'pages.jsonl')
    writeFileSync(pagesFile, pages.map((p) => JSON.stringify(p)).join('\n') + '\n')
    const encodedMb = pages.reduce((n, p) => n + JSON.stringify(p).length, 0) / 1024 / 1024
    child = await spawnChild(import.meta.path, [CHILD_FLAG, pagesFile])
    const floorPeer = crypto.randomUUID()
    const floorBefore = await measureFloor(pages, dir, child, floorPeer)

    const pouch = process.env.POUCHDB === '0' ? null : await measurePouch(pagesFile, dir)
    const all: PodRun[] = []
    const configs = treeList.flatMap((tree) => benchRuntimes().map((runtime) => ({ tree, runtime })))
    for (let round = 0; round < ROUNDS; round++) {
      for (const { tree, runtime } of configs) all.push(await measurePods(runtime, tree, homes, pods))
    }
    const runs = configs.map(({ tree, runtime }) => best(all.filter((r) => r.tree === tree.name && r.runtime === runtime)))

    const floorAfter = await measureFloor(pages, dir, child, floorPeer)
    const floor = floorBefore.totalS <= floorAfter.totalS ? floorBefore : floorAfter

    console.log(
      `\n## floor (same ${pages.length} pages, ${fmt(encodedMb)} MB encoded; faster of 2 runs: ${fmt(floorBefore.totalS, 2)} s / ${fmt(floorAfter.totalS, 2)} s)`,
    )
    row('floor: loopback HTTP transfer (bare Bun.serve)', `${fmt(floor.httpS, 2)} s`)
    row('floor: JSON encode + decode', `${fmt(floor.jsonS, 2)} s`)
    row('floor: bun:sqlite insert, 1 tx per page', `${fmt(floor.insertS, 2)} s`)
    row('floor: insert + FTS5 row after each insert', `${fmt(floor.insertFtsS, 2)} s`, 'FTS5 writes a segment per row this way')
    row("floor: insert + the page's FTS5 rows after it", `${fmt(floor.insertFtsBatchedS, 2)} s`)
    row('floor total (no FTS5)', `${fmt(floor.totalS, 2)} s`, `${fmt(N / floor.totalS, 0)} memories/s, ${fmt(floor.cpuS, 2)} CPU s`)
    // The pod indexes every copy for recall: the floors "until searchable", one step after the other.
    const withFtsS = floor.totalS - floor.insertS + floor.insertFtsS
    const withFtsBatchedS = floor.totalS - floor.insertS + floor.insertFtsBatchedS
    row('floor + FTS5 after each insert, sequential', `${fmt(withFtsS, 2)} s`, 'the floor earlier runs printed')
    row('floor + FTS5 per page, sequential', `${fmt(withFtsBatchedS, 2)} s`)

    for (const r of runs) {
      const serving = SERVE_RUNTIME && SERVE_RUNTIME !== r.runtime ? ` (A under ${SERVE_RUNTIME})` : ''
      console.log(`\n## pod (${r.tree}) under ${r.runtime}${serving}: B POST /peer/sync-now ← A (real processes; best of ${ROUNDS} rounds per figure)`)
      row('pod: sync-now wall time', `${fmt(r.podS, 2)} s`, `${fmt(N / r.podS, 0)} memories/s`)
      row(
        'pod: CPU seconds A (serve) / B (pull)',
        `${fmt(r.cpu.a, 2)} / ${fmt(r.cpu.b, 2)} s`,
        `sum ${fmt(r.cpu.a + r.cpu.b, 2)} s vs floor ${fmt(floor.cpuS, 2)} s = ${fmt((r.cpu.a + r.cpu.b) / floor.cpuS)}x`,
      )
      row(
        'pod: until every copy is searchable',
        `${fmt(r.searchableS, 2)} s`,
        `${fmt(N / r.searchableS, 0)} memories/s; CPU A + B ${fmt(r.cpu.a + r.cpuSearchableB, 2)} s`,
      )
      row("pod: CPU of B's main thread until then", `${fmt(r.cpuMainB, 2)} s`, "where the pages are stored: the pull's critical path")
      row(
        'pod: B after that, until it settles',
        `+${fmt(r.upkeepB.cpuS, 2)} s CPU`,
        `within ${fmt(r.upkeepB.s, 1)} s (what the pull put off: FTS5 merges, WAL checkpoint)`,
      )
      const hwmNote = r.hwmReset ? 'peak during the sync' : 'peak since start (VmHWM reset not permitted)'
      row('pod: peak RSS (VmHWM) A', `${fmt(r.rss.a)} MB`, `${hwmNote}; RSS before ${fmt(r.rssBefore.a)} MB`)
      row('pod: peak RSS (VmHWM) B', `${fmt(r.rss.b)} MB`, `${hwmNote}; RSS before ${fmt(r.rssBefore.b)} MB`)
      const ratio = r.podS / floor.totalS
      row('ratio pod / floor (wall, sync-now)', `${fmt(ratio, 2)}x`, `target within ${TARGET_RATIO}x: ${ratio <= TARGET_RATIO ? 'MET' : 'NOT MET'}`)
    }

    console.log('\n## until every copy is searchable: pod vs PouchDB vs floor (ratios > 1: the pod is faster)')
    if (pouch) {
      row(
        'PouchDB 9 replicate(), batch_size 1000',
        `${fmt(pouch.wallS, 2)} s`,
        `CPU server + client ${fmt(pouch.cpu.server, 2)} + ${fmt(pouch.cpu.client, 2)} s (no full-text index)`,
      )
    }
    for (const r of runs) {
      const cpu = r.cpu.a + r.cpuSearchableB
      const vsPouch = pouch ? `PouchDB/pod ${fmt(pouch.wallS / r.searchableS, 1)}x wall, ${fmt((pouch.cpu.server + pouch.cpu.client) / cpu, 1)}x CPU; ` : ''
      row(
        `pod (${r.tree}), ${r.runtime}`,
        `${fmt(r.searchableS, 2)} s`,
        `${vsPouch}floor/pod ${fmt(withFtsS / r.searchableS, 2)}x (FTS5 per row), ${fmt(withFtsBatchedS / r.searchableS, 2)}x (per page)`,
      )
    }
    for (const runtime of ['bun', 'deno'] as const) {
      const now = runs.find((r) => r.runtime === runtime && r.tree === 'this tree')
      const before = runs.find((r) => r.runtime === runtime && r.tree !== 'this tree')
      if (now && before) {
        row(
          `before / after, ${runtime}`,
          `${fmt(before.searchableS / now.searchableS, 2)}x`,
          `wall ${fmt(before.searchableS, 2)} → ${fmt(now.searchableS, 2)} s; CPU A + B ${fmt(before.cpu.a + before.cpuSearchableB, 2)} → ${fmt(now.cpu.a + now.cpuSearchableB, 2)} s`,
        )
      }
    }
    const bun = runs.find((r) => r.runtime === 'bun' && r.tree === 'this tree')
    const deno = runs.find((r) => r.runtime === 'deno' && r.tree === 'this tree')
    if (bun && deno) {
      console.log('\n## deno / bun (this tree)')
      row('sync-now wall time', `${fmt(deno.podS / bun.podS, 2)}x`, `${fmt(deno.podS, 2)} s / ${fmt(bun.podS, 2)} s`)
      row('until every copy is searchable', `${fmt(deno.searchableS / bun.searchableS, 2)}x`, `${fmt(deno.searchableS, 2)} s / ${fmt(bun.searchableS, 2)} s`)
      const cpuD = deno.cpu.a + deno.cpuSearchableB
      const cpuB = bun.cpu.a + bun.cpuSearchableB
      row('CPU A + B until searchable', `${fmt(cpuD / cpuB, 2)}x`, `${fmt(cpuD, 2)} s / ${fmt(cpuB, 2)} s`)
      row(
        'CPU B (puller) until searchable',
        `${fmt(deno.cpuSearchableB / bun.cpuSearchableB, 2)}x`,
        `${fmt(deno.cpuSearchableB, 2)} s / ${fmt(bun.cpuSearchableB, 2)} s`,
      )
      row("CPU of B's main thread until searchable", `${fmt(deno.cpuMainB / bun.cpuMainB, 2)}x`, `${fmt(deno.cpuMainB, 2)} s / ${fmt(bun.cpuMainB, 2)} s`)
      row('peak RSS B (puller)', `${fmt(deno.rss.b / bun.rss.b, 2)}x`, `${fmt(deno.rss.b)} MB / ${fmt(bun.rss.b)} MB`)
    }
    console.log(`\n(${loadNote()})`)
  } finally {
    await child?.stop()
    await Promise.all(pods.map((p) => p.stop().catch(() => undefined)))
    for (const h of homes) rmSync(h, { recursive: true, force: true })
    rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[2] === CHILD_FLAG) await pagesChild(process.argv[3]!)
else await main()
