/**
 * The rendezvous purge (src/rendezvous/store.ts): once per PURGE_INTERVAL_MS the first register
 * deletes bindings past their retention and wipes the URLs of expired registrations, inside its
 * write transaction, so every other register and lookup waits for it. A database of N
 * registrations (default 100,000, the table's bound), LIVE of them live (default 1,000; their
 * expiries spread over the next RECORD_TTL_MS, so each purge wipes the ~1/5 that expired, as
 * pods going offline) and the rest expired and retained for their binding (URL already wiped,
 * expiries spread over the past BINDING_RETENTION_MS). The database is filled by SQL in the
 * schema of a rendezvous from before the partial index, so each tree's open applies its own
 * schema to an existing database. A child process per tree and round (Bun) opens a copy, then
 * PURGES times (default 5) advances its clock a purge interval and times the register that
 * purges, and a plain register after it. BASE=<a checkout with node_modules> runs that tree's
 * store beside this one's, alternating ROUNDS times (default 3).
 *
 *   npx bun bench/rendezvous-purge.bench.ts
 *   BASE=/work/wt/base N=100000 npx bun bench/rendezvous-purge.bench.ts
 */
import { Database } from 'bun:sqlite'
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { FakeClock } from '../src/lib/clock'
import { BINDING_RETENTION_MS, RECORD_TTL_MS } from '../src/rendezvous/constants'
import { envInt, loadNote } from './_fed-util'
import { fmt, row } from './_util'

const N = envInt('N', 100_000)
const LIVE = Math.min(N, envInt('LIVE', 1_000))
const PURGES = envInt('PURGES', 5)
const ROUNDS = envInt('ROUNDS', 3)
const ROOT = resolve(import.meta.dir, '..')
const CHILD = join(import.meta.dir, '_rendezvous-purge-child.ts')
const NOW = new FakeClock().now()

/** The rendezvous schema as every tree before the partial index made it. */
const OLD_SCHEMA = `
CREATE TABLE tokens (id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, label TEXT NOT NULL, created_at INTEGER NOT NULL, revoked_at INTEGER) STRICT;
CREATE TABLE registrations (peer_id TEXT PRIMARY KEY, url TEXT NOT NULL, key_hash TEXT NOT NULL, expires_at INTEGER NOT NULL,
  token_id TEXT NOT NULL, last_ts INTEGER NOT NULL DEFAULT 0) STRICT, WITHOUT ROWID;
CREATE INDEX registrations_expires_at ON registrations(expires_at);
CREATE INDEX registrations_token_id ON registrations(token_id);
`

interface Run {
  openMs: number
  purgeMs: number[]
  plainMs: number[]
  rows: number
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!

function fill(path: string): void {
  const db = new Database(path)
  db.exec(OLD_SCHEMA)
  const insert = db.query('INSERT INTO registrations VALUES (?, ?, ?, ?, ?, ?)')
  db.transaction(() => {
    for (let i = 0; i < N; i++) {
      const peerId = `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`
      const live = i < LIVE
      const expiresAt = live ? NOW + 1 + Math.floor((i * RECORD_TTL_MS) / LIVE) : NOW - Math.floor(((i - LIVE) * BINDING_RETENTION_MS) / (N - LIVE))
      insert.run(peerId, live ? `http://10.0.${i % 250}.1:8765` : '', 'a'.repeat(64), expiresAt, `t${i % 1000}`, 1)
    }
  })()
  db.close()
}

async function measure(root: string, src: string, dir: string, i: number): Promise<Run> {
  const copy = join(dir, `copy-${i}.db`)
  copyFileSync(src, copy)
  const proc = Bun.spawn([process.execPath, CHILD, root, copy, String(PURGES), String(NOW)], { stdout: 'pipe', stderr: 'inherit' })
  const out = await new Response(proc.stdout).text()
  if ((await proc.exited) !== 0) throw new Error(`child for ${root} failed`)
  for (const f of [copy, `${copy}-wal`, `${copy}-shm`]) rmSync(f, { force: true })
  return JSON.parse(out) as Run
}

async function main(): Promise<void> {
  console.log(`# rendezvous purge: ${N} registrations, ${LIVE} live, the rest retained with their URL wiped (Bun ${Bun.version}; ${loadNote()})`)
  const dir = mkdtempSync(join(tmpdir(), 'mzm-rv-purge-'))
  try {
    const src = join(dir, 'filled.db')
    fill(src)
    const trees = [{ name: 'this tree', root: ROOT }, ...(process.env.BASE ? [{ name: `base (${process.env.BASE})`, root: resolve(process.env.BASE) }] : [])]
    const configs = trees.map((t) => ({ ...t, runs: [] as Run[] }))
    let i = 0
    for (let r = 0; r < ROUNDS; r++) for (const c of configs) c.runs.push(await measure(c.root, src, dir, i++))
    for (const c of configs) {
      const purges = c.runs.flatMap((x) => x.purgeMs)
      const plains = c.runs.flatMap((x) => x.plainMs)
      console.log(`\n## ${c.name} (${ROUNDS} rounds x ${PURGES} purges; ms, min / median)`)
      row('register that purges', `${fmt(Math.min(...purges), 2)} / ${fmt(median(purges), 2)} ms`)
      row('register without purge', `${fmt(Math.min(...plains), 3)} / ${fmt(median(plains), 3)} ms`)
      row('open (schema + first purge)', `${fmt(Math.min(...c.runs.map((x) => x.openMs)), 1)} / ${fmt(median(c.runs.map((x) => x.openMs)), 1)} ms`)
      row('rows held at the end', String(c.runs[0]!.rows))
    }
    if (configs.length > 1) {
      const [now, base] = configs.map((c) => c.runs.flatMap((x) => x.purgeMs))
      console.log('\n## base / this tree (> 1: this tree is faster)')
      row('register that purges, min', `${fmt(Math.min(...base!) / Math.min(...now!), 1)}x`)
      row('register that purges, median', `${fmt(median(base!) / median(now!), 1)}x`)
    }
    console.log(`\n(${loadNote()})`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
