/**
 * The foundation's measurements, each beside a floor measured in the same run:
 *  - remember throughput over HTTP (10k memories, half private) vs a bare bun:sqlite
 *    prepared-statement insert of the same rows in one transaction;
 *  - recall latency p50/p99 on a 100k-memory store (half private), over HTTP and in-process,
 *    vs a bare FTS5 query on a bare table of the same rows;
 *  - cold start of the compiled binary to a healthy /healthz, idle RSS, binary size;
 *  - the pod from source under Bun and under Deno (RUNTIME=bun|deno|both, default both): recall
 *    p50/p99 over HTTP on the same store, cold start, idle RSS — Deno beside Bun in one run.
 *  - durability: remember over HTTP with each commit synced vs MAZEMAKER_UNSAFE_NO_FSYNC=1, same run;
 * Run: npx bun bench/foundation.bench.ts [remember|durability|recall|binary|source]  (`npm run build` for the binary part)
 */
import { Database } from 'bun:sqlite'
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openHome } from '../src/identity'
import { openStore } from '../src/store'
import { systemClock } from '../src/lib/clock'
import { memoryLogger } from '../src/lib/log'
import { spawnPod, type TestRuntime } from '../test/helpers/pod-process'
import { benchRuntimes, fmt, percentile, pool, row, rssMb } from './_util'
import { cpuSeconds } from './_fed-util'

const REMEMBER_N = Number(process.env.REMEMBER_N ?? 10_000)
const RECALL_STORE_N = Number(process.env.RECALL_STORE_N ?? 100_000)
const RECALL_QUERIES = 2_000
const WORDS =
  'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu'.split(
    ' ',
  )

function sentence(i: number): string {
  const w = (k: number) => WORDS[(i * 7 + k * 13 + ((i >> k) & 7)) % WORDS.length]
  return `memory ${i}: ${w(1)} ${w(2)} ${w(3)} notes about ${w(4)} and ${w(5)} word${i % 997}`
}
const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ label: i % 2 ? `public:m${i}` : `note:m${i}`, content: sentence(i) }))

async function rememberThroughput() {
  console.log(`\n## remember over HTTP (${REMEMBER_N} memories, half private)`)
  const data = rows(REMEMBER_N)
  // Floor: bare prepared insert of the same rows in one transaction.
  const dir = mkdtempSync(join(tmpdir(), 'mzm-bench-'))
  const db = new Database(join(dir, 'floor.db'))
  db.run('PRAGMA journal_mode=WAL')
  db.run('CREATE TABLE m (id TEXT PRIMARY KEY, label TEXT, content TEXT)')
  const ins = db.prepare('INSERT INTO m VALUES (?, ?, ?)')
  let t = performance.now()
  db.transaction(() => {
    for (const r of data) ins.run(Bun.randomUUIDv7(), r.label, r.content)
  })()
  const floorS = (performance.now() - t) / 1000
  db.close()

  const pod = await spawnPod()
  try {
    t = performance.now()
    await pool(data.length, 32, (i) => pod.api('POST', '/memories', data[i]))
    const podS = (performance.now() - t) / 1000
    row('floor: bare insert, one transaction', `${fmt(REMEMBER_N / floorS, 0)}/s`)
    row('pod: POST /memories, 32 concurrent', `${fmt(REMEMBER_N / podS, 0)}/s`, `ratio floor/pod = ${fmt(podS / floorS)}x`)
  } finally {
    await pod.stop()
    rmSync(pod.home, { recursive: true, force: true })
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * What syncing each acknowledged write costs `remember` over HTTP: the same pod binary with its
 * commits synced (the default) and with MAZEMAKER_UNSAFE_NO_FSYNC=1, in alternating rounds of
 * the same run. One writer at a time (each answer waits for its own sync) and 32 at once (group
 * commit: one sync serves the batch). Wall time is what a caller sees; the pod's CPU seconds show
 * that the sync is waiting on the disk, not work.
 */
async function durabilityCost() {
  const ROUNDS = Number(process.env.DURABILITY_ROUNDS ?? 3)
  const SEQ_N = Number(process.env.DURABILITY_SEQ_N ?? 500)
  const CONC_N = Number(process.env.DURABILITY_CONC_N ?? 4000)
  console.log(`\n## durability: remember over HTTP, synced vs MAZEMAKER_UNSAFE_NO_FSYNC=1 (${ROUNDS} alternating rounds)`)
  const result = { synced: { seq: [] as number[], conc: 0, concCpu: 0, seqCpu: 0 }, unsafe: { seq: [] as number[], conc: 0, concCpu: 0, seqCpu: 0 } }
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of round % 2 === 0 ? (['synced', 'unsafe'] as const) : (['unsafe', 'synced'] as const)) {
      const pod = await spawnPod({ env: mode === 'unsafe' ? { MAZEMAKER_UNSAFE_NO_FSYNC: '1' } : {} })
      try {
        const r = result[mode]
        for (let i = 0; i < 50; i++) await pod.api('POST', '/memories', { label: `public:warm-${i}`, content: 'warm-up' })
        let cpu = cpuSeconds(pod.pid)
        for (let i = 0; i < SEQ_N; i++) {
          const t = performance.now()
          await pod.api('POST', '/memories', { label: `public:seq-${i}`, content: sentence(i) })
          r.seq.push(performance.now() - t)
        }
        r.seqCpu += cpuSeconds(pod.pid) - cpu
        cpu = cpuSeconds(pod.pid)
        const t = performance.now()
        await pool(CONC_N, 32, (i) => pod.api('POST', '/memories', { label: `public:conc-${i}`, content: sentence(i) }))
        r.conc += (performance.now() - t) / 1000
        r.concCpu += cpuSeconds(pod.pid) - cpu
      } finally {
        await pod.stop()
        rmSync(pod.home, { recursive: true, force: true })
      }
    }
  }
  for (const r of Object.values(result)) r.seq.sort((x, y) => x - y)
  const [s, u] = [result.synced, result.unsafe]
  const seqCpuMs = (r: typeof s) => (r.seqCpu * 1000) / (SEQ_N * ROUNDS)
  row(
    'one at a time, p50 / p99 (unsafe, no sync)',
    `${fmt(percentile(u.seq, 50), 2)} / ${fmt(percentile(u.seq, 99), 2)} ms`,
    `pod CPU ${fmt(seqCpuMs(u), 2)} ms/remember`,
  )
  row(
    'one at a time, p50 / p99 (synced)',
    `${fmt(percentile(s.seq, 50), 2)} / ${fmt(percentile(s.seq, 99), 2)} ms`,
    `pod CPU ${fmt(seqCpuMs(s), 2)} ms/remember; p50 ratio ${fmt(percentile(s.seq, 50) / percentile(u.seq, 50), 2)}x`,
  )
  const rate = (r: typeof s) => (CONC_N * ROUNDS) / r.conc
  row('32 concurrent (unsafe, no sync)', `${fmt(rate(u), 0)}/s`, `pod CPU ${fmt(u.concCpu, 2)} s`)
  row('32 concurrent (synced, group commit)', `${fmt(rate(s), 0)}/s`, `pod CPU ${fmt(s.concCpu, 2)} s; throughput ratio ${fmt(rate(s) / rate(u), 2)}x`)
}

async function recallLatency() {
  console.log(`\n## recall on a ${RECALL_STORE_N}-memory store (half private)`)
  const home = mkdtempSync(join(tmpdir(), 'mzm-bench-'))
  const h = await openHome(home, { log: memoryLogger() })
  const store = openStore({
    path: h.paths.db,
    vaultKey: h.identity.vaultKey,
    publicPrefixes: h.config.public_prefixes,
    maxContentBytes: 65536,
    clock: systemClock,
    durable: false, // filling 100k rows one by one; recall is what is measured
  })
  const data = rows(RECALL_STORE_N)
  const t = performance.now()
  for (const r of data) store.remember(r)
  console.log(`  (filled in ${fmt((performance.now() - t) / 1000)} s)`)
  const queries = Array.from({ length: RECALL_QUERIES }, (_, i) => `${WORDS[i % WORDS.length]} ${WORDS[(i * 5) % WORDS.length]}`)

  // Floor: a bare FTS5 table of the same (plaintext) rows and the same OR query.
  const floorDb = new Database(join(home, 'floor.db'))
  floorDb.run('CREATE VIRTUAL TABLE f USING fts5(label, body)')
  const fins = floorDb.prepare('INSERT INTO f VALUES (?, ?)')
  floorDb.transaction(() => {
    for (const r of data) fins.run(r.label, r.content)
  })()
  const fq = floorDb.prepare('SELECT rowid, bm25(f) AS s FROM f WHERE f MATCH ? ORDER BY s LIMIT 10')
  const time = (fn: (q: string) => unknown) =>
    queries
      .map((q) => {
        const s = performance.now()
        fn(q)
        return performance.now() - s
      })
      .sort((x, y) => x - y)
  const floor = time((q) =>
    fq.all(
      q
        .split(' ')
        .map((w) => `"${w}"`)
        .join(' OR '),
    ),
  )
  const inproc = time((q) => store.recall(q, 10))
  store.close()
  floorDb.close()

  try {
    row('floor: bare FTS5 query p50 / p99', `${fmt(percentile(floor, 50), 2)} / ${fmt(percentile(floor, 99), 2)} ms`)
    row(
      'store.recall in-process p50 / p99',
      `${fmt(percentile(inproc, 50), 2)} / ${fmt(percentile(inproc, 99), 2)} ms`,
      `p99 ratio ${fmt(percentile(inproc, 99) / percentile(floor, 99))}x`,
    )
    // The same store served by a pod under each runtime in turn.
    const byRuntime = new Map<TestRuntime, number[]>()
    for (const runtime of benchRuntimes()) {
      const pod = await spawnPod({ home, runtime })
      try {
        for (const q of queries.slice(0, 200)) await pod.api('GET', `/recall?q=${encodeURIComponent(q)}&k=10`) // warm-up (JIT)
        const http: number[] = []
        for (const q of queries) {
          const s = performance.now()
          await pod.api('GET', `/recall?q=${encodeURIComponent(q)}&k=10`)
          http.push(performance.now() - s)
        }
        http.sort((x, y) => x - y)
        byRuntime.set(runtime, http)
        row(
          `GET /recall over HTTP p50 / p99 (${runtime})`,
          `${fmt(percentile(http, 50), 2)} / ${fmt(percentile(http, 99), 2)} ms`,
          `p99 ratio ${fmt(percentile(http, 99) / percentile(floor, 99))}x (target p99 < 10 ms)`,
        )
      } finally {
        await pod.stop()
      }
    }
    const [bun, deno] = [byRuntime.get('bun'), byRuntime.get('deno')]
    if (bun && deno)
      row('  deno / bun, p50 / p99', `${fmt(percentile(deno, 50) / percentile(bun, 50), 2)}x / ${fmt(percentile(deno, 99) / percentile(bun, 99), 2)}x`)
  } finally {
    rmSync(home, { recursive: true, force: true })
  }
}

/** Boots a pod on a fresh home with `command`/`runtime` until /healthz answers; idle RSS 1 s later. */
async function coldStarts(opts: { command?: string[]; runtime?: TestRuntime }, times = 5): Promise<{ medianMs: number; idleMb: number }> {
  const starts: number[] = []
  let idle = 0
  for (let i = 0; i < times; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'mzm-bench-'))
    const t = performance.now()
    const pod = await spawnPod({ home: dir, ...opts })
    for (;;) {
      const ok = await fetch(pod.url + '/healthz').then(
        (r) => r.ok,
        () => false,
      )
      if (ok) break
    }
    starts.push(performance.now() - t)
    await Bun.sleep(1000)
    idle = Math.max(idle, rssMb(pod.pid))
    await pod.stop()
    rmSync(dir, { recursive: true, force: true })
  }
  starts.sort((x, y) => x - y)
  return { medianMs: percentile(starts, 50), idleMb: idle }
}

async function fromSource() {
  console.log('\n## from source, per runtime (first boot incl. key generation; median of 5)')
  const measured = new Map<TestRuntime, { medianMs: number; idleMb: number }>()
  for (const runtime of benchRuntimes()) {
    const m = await coldStarts({ runtime })
    measured.set(runtime, m)
    row(`cold start → healthy /healthz (${runtime})`, `${fmt(m.medianMs, 0)} ms`)
    row(`idle RSS after boot (${runtime})`, `${fmt(m.idleMb)} MB`)
  }
  const [bun, deno] = [measured.get('bun'), measured.get('deno')]
  if (bun && deno) row('  deno / bun, cold start / idle RSS', `${fmt(deno.medianMs / bun.medianMs, 2)}x / ${fmt(deno.idleMb / bun.idleMb, 2)}x`)
}

async function binary() {
  console.log('\n## compiled binary')
  const bin = join(import.meta.dir, '..', 'dist', 'mazemaker')
  if (!existsSync(bin)) return console.log('  dist/mazemaker missing: run `npm run build` first')
  row('binary size', `${fmt(statSync(bin).size / 1024 / 1024)} MB`)
  const { medianMs, idleMb: idle } = await coldStarts({ command: [bin] })
  // Baseline: the same binary printing its version (process start without the pod).
  const vt = performance.now()
  Bun.spawnSync([bin, '--version'])
  const versionMs = performance.now() - vt
  row(
    'cold start → healthy /healthz (median of 5)',
    `${fmt(medianMs, 0)} ms`,
    `first boot incl. key generation; \`--version\` alone: ${fmt(versionMs, 0)} ms (target < 200 ms)`,
  )
  row('idle RSS after boot', `${fmt(idle)} MB`, '(target < 80 MB)')
}

const only = process.argv[2]
if (!only || only === 'remember') await rememberThroughput()
if (!only || only === 'durability') await durabilityCost()
if (!only || only === 'recall') await recallLatency()
if (!only || only === 'binary') await binary()
if (!only || only === 'source') await fromSource()
