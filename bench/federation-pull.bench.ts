/**
 * Pull throughput: pod B pulls N shareable memories from pod A (which also
 * holds N private ones), both real processes on loopback. Measured: wall time of POST
 * /peer/sync-now on B, memories/s, CPU seconds and peak RSS (VmHWM) of each pod.
 *
 * Floor, in the same run, over the very pages A serves: bun:sqlite insert of the same rows (one
 * transaction per 500-entry page) + JSON encode and decode of those pages + one loopback HTTP
 * transfer of them from a bare Bun.serve child process. Printed: pod/floor (target within 3x).
 * The floor runs before and after the pods; the faster run counts (a conservative ratio on a
 * shared machine).
 *
 * The pods run under Bun and then under Deno (RUNTIME=bun|deno|both, default both), against the
 * same A home and the same floor, so the two runtimes are compared in one run.
 *
 *   npx bun bench/federation-pull.bench.ts            # N=100000
 *   N=10000 npx bun bench/federation-pull.bench.ts    # smoke run
 *   RUNTIME=deno npx bun bench/federation-pull.bench.ts
 */
import { Database } from 'bun:sqlite'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PAGE_LIMIT } from '../src/sync/constants'
import { spawnPod, tempHome, type PodProcess, type TestRuntime } from '../test/helpers/pod-process'
import { benchRuntimes, fmt, peakRssMb, row, rssMb } from './_util'
import {
  addPeer,
  announce,
  cpuSeconds,
  envInt,
  fillHome,
  identityOf,
  loadNote,
  podCommand,
  resetPeakRss,
  servedPages,
  spawnChild,
  timedSyncNow,
  type Child,
} from './_fed-util'

const CHILD_FLAG = '--child=pages'
const N = envInt('N', 100_000)
const TARGET_RATIO = 3

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
  /** Informational: the same insert plus an FTS5 row per memory (the pod indexes what it stores). */
  insertFtsS: number
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
  const insert = (withFts: boolean): number => {
    const path = join(dir, `floor-${withFts ? 'fts' : 'bare'}.db`)
    const db = new Database(path, { create: true, strict: true })
    db.run('PRAGMA journal_mode = WAL')
    db.run('PRAGMA synchronous = NORMAL')
    db.run(
      'CREATE TABLE m (pk INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, label TEXT NOT NULL, content TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)',
    )
    if (withFts) db.run("CREATE VIRTUAL TABLE f USING fts5 (label, body, content = '', contentless_delete = 1)")
    const ins = db.prepare('INSERT INTO m (id, label, content, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING pk')
    const fts = withFts ? db.prepare('INSERT INTO f (rowid, label, body) VALUES (?, ?, ?)') : null
    const prefix = `peer:${peerId}:`
    const start = performance.now()
    for (const page of pages) {
      db.transaction(() => {
        for (const e of page.memories) {
          if ('deleted' in e) continue
          const { pk } = ins.get(e.id, prefix + e.label, e.content, e.created_at, e.updated_at) as { pk: number }
          fts?.run(pk, prefix + e.label, e.content)
        }
      })()
    }
    const s = (performance.now() - start) / 1000
    db.close()
    rmSync(path, { force: true })
    return s
  }
  const insertS = insert(false)
  const cpu1 = process.cpuUsage(cpu0)
  const cpuS = (cpu1.user + cpu1.system) / 1e6 + (cpuSeconds(child.pid) - childCpu0)
  const insertFtsS = insert(true)
  return { insertS, jsonS, httpS, totalS: insertS + jsonS + httpS, cpuS, insertFtsS }
}

interface PodRun {
  runtime: TestRuntime
  podS: number
  searchableS: number
  cpu: { a: number; b: number }
  cpuSearchableB: number
  rss: { a: number; b: number }
  rssBefore: { a: number; b: number }
  hwmReset: boolean
}

/** A (on the filled home) and a fresh B under `runtime`; B pulls everything once. Both stopped after. */
async function measurePods(runtime: TestRuntime, homeA: string, homes: string[], pods: PodProcess[]): Promise<PodRun> {
  // POD_PROF profiles Bun pods only (bun --cpu-prof-md).
  const command = runtime === 'bun' ? podCommand() : undefined
  const a = await spawnPod({ home: homeA, command, runtime })
  pods.push(a)
  const b = await spawnPod({ home: tempHome('mzm-fed-pull-b-'), command, runtime })
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
    const cpuBefore = { a: cpuSeconds(a.pid), b: cpuSeconds(b.pid) }
    const round = await timedSyncNow(b, idA.pod_id)
    const cpu = { a: cpuSeconds(a.pid) - cpuBefore.a, b: cpuSeconds(b.pid) - cpuBefore.b }
    // Copies get their full-text rows after the pull (background indexer); a recall drains what
    // is left, so sync + this recall = the time until every copy is searchable.
    const recallStart = performance.now()
    const probe = await b.api('GET', `/recall?q=${encodeURIComponent('memory')}&k=1`)
    if (probe.status !== 200 || probe.body.results.length === 0) throw new Error('recall after the pull found nothing')
    const searchableS = round.ms / 1000 + (performance.now() - recallStart) / 1000
    const cpuSearchableB = cpuSeconds(b.pid) - cpuBefore.b
    const rss = { a: peakRssMb(a.pid), b: peakRssMb(b.pid) }
    const result = round.results[0]!
    if (result.fetched !== N || result.stored !== N) throw new Error(`${runtime}: B fetched ${result.fetched} / stored ${result.stored}, expected ${N}`)
    return { runtime, podS: round.ms / 1000, searchableS, cpu, cpuSearchableB, rss, rssBefore, hwmReset }
  } finally {
    await Promise.all([a.stop(), b.stop()])
    pods.splice(0, pods.length, ...pods.filter((p) => p !== a && p !== b))
  }
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
    const hA = await fillHome(homeA, { publicN: N, privateN: N })
    const pages = servedPages(hA, PAGE_LIMIT)
    console.log(`  (filled A in ${fmt((performance.now() - t) / 1000)} s; ${pages.length} pages of up to ${PAGE_LIMIT})`)
    const pagesFile = join(dir, 'pages.jsonl')
    writeFileSync(pagesFile, pages.map((p) => JSON.stringify(p)).join('\n') + '\n')
    const encodedMb = pages.reduce((n, p) => n + JSON.stringify(p).length, 0) / 1024 / 1024
    child = await spawnChild(import.meta.path, [CHILD_FLAG, pagesFile])
    const floorPeer = crypto.randomUUID()
    const floorBefore = await measureFloor(pages, dir, child, floorPeer)

    const runs: PodRun[] = []
    for (const runtime of benchRuntimes()) runs.push(await measurePods(runtime, homeA, homes, pods))

    const floorAfter = await measureFloor(pages, dir, child, floorPeer)
    const floor = floorBefore.totalS <= floorAfter.totalS ? floorBefore : floorAfter

    console.log(
      `\n## floor (same ${pages.length} pages, ${fmt(encodedMb)} MB encoded; faster of 2 runs: ${fmt(floorBefore.totalS, 2)} s / ${fmt(floorAfter.totalS, 2)} s)`,
    )
    row('floor: loopback HTTP transfer (bare Bun.serve)', `${fmt(floor.httpS, 2)} s`)
    row('floor: JSON encode + decode', `${fmt(floor.jsonS, 2)} s`)
    row('floor: bun:sqlite insert, 1 tx per page', `${fmt(floor.insertS, 2)} s`, `(+FTS5 row per memory: ${fmt(floor.insertFtsS, 2)} s, not in floor)`)
    row('floor total', `${fmt(floor.totalS, 2)} s`, `${fmt(N / floor.totalS, 0)} memories/s, ${fmt(floor.cpuS, 2)} CPU s`)
    // The pod indexes every copy for recall; this says how much of the gap that alone explains.
    const withFtsS = floor.totalS - floor.insertS + floor.insertFtsS

    for (const r of runs) {
      console.log(`\n## pod under ${r.runtime}: B POST /peer/sync-now ← A (real processes)`)
      row('pod: sync-now wall time', `${fmt(r.podS, 2)} s`, `${fmt(N / r.podS, 0)} memories/s`)
      row(
        'pod: CPU seconds A (serve) / B (pull)',
        `${fmt(r.cpu.a, 2)} / ${fmt(r.cpu.b, 2)} s`,
        `sum ${fmt(r.cpu.a + r.cpu.b, 2)} s vs floor ${fmt(floor.cpuS, 2)} s = ${fmt((r.cpu.a + r.cpu.b) / floor.cpuS)}x`,
      )
      row(
        'pod: until every copy is searchable',
        `${fmt(r.searchableS, 2)} s`,
        `${fmt(N / r.searchableS, 0)} memories/s; B CPU ${fmt(r.cpuSearchableB, 2)} s; ratio to floor+FTS5 ${fmt(r.searchableS / withFtsS, 2)}x`,
      )
      const hwmNote = r.hwmReset ? 'peak during the sync' : 'peak since start (VmHWM reset not permitted)'
      row('pod: peak RSS (VmHWM) A', `${fmt(r.rss.a)} MB`, `${hwmNote}; RSS before ${fmt(r.rssBefore.a)} MB`)
      row('pod: peak RSS (VmHWM) B', `${fmt(r.rss.b)} MB`, `${hwmNote}; RSS before ${fmt(r.rssBefore.b)} MB`)
      const ratio = r.podS / floor.totalS
      row('ratio pod / floor (wall)', `${fmt(ratio, 2)}x`, `target within ${TARGET_RATIO}x: ${ratio <= TARGET_RATIO ? 'MET' : 'NOT MET'}`)
      row('  (ratio pod / floor with the FTS5 insert)', `${fmt(r.podS / withFtsS, 2)}x`, 'informational: floor with an FTS5 row per memory')
    }
    const bun = runs.find((r) => r.runtime === 'bun')
    const deno = runs.find((r) => r.runtime === 'deno')
    if (bun && deno) {
      console.log('\n## deno / bun')
      row('sync-now wall time', `${fmt(deno.podS / bun.podS, 2)}x`, `${fmt(deno.podS, 2)} s / ${fmt(bun.podS, 2)} s`)
      row('until every copy is searchable', `${fmt(deno.searchableS / bun.searchableS, 2)}x`, `${fmt(deno.searchableS, 2)} s / ${fmt(bun.searchableS, 2)} s`)
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
