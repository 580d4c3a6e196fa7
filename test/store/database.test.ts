import { afterEach, describe, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { memoryLogger } from '../../src/lib/log'
import { VERSION } from '../../src/lib/version'
import { openDatabase } from '../../src/store/database'
import type { SqliteDatabase } from '../../src/runtime'
import { MIGRATIONS, REWRITES_DATA } from '../../src/store/migrations'
import { createContext } from '../../src/store/_context'
import { tempStores } from './_temp-store'

let dir = ''
afterEach(() => rmSync(dir, { recursive: true, force: true }))

describe('openDatabase', () => {
  test('creates pod.db 0600 (and its -wal/-shm) even under umask 0, in WAL mode, migrated', () => {
    dir = mkdtempSync(join(tmpdir(), 'mzm-db-'))
    const path = join(dir, 'pod.db')
    const old = process.umask(0)
    let db: SqliteDatabase
    try {
      db = openDatabase(path)
    } finally {
      process.umask(old)
    }
    for (const f of ['pod.db', 'pod.db-wal', 'pod.db-shm']) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600)
    expect(db.query('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' })
    expect(db.query('PRAGMA synchronous').get()).toEqual({ synchronous: 2 }) // FULL: a commit syncs the WAL
    expect(db.query('PRAGMA foreign_keys').get()).toEqual({ foreign_keys: 1 })
    expect(db.query('PRAGMA secure_delete').get()).toEqual({ secure_delete: 1 })
    expect(db.query('PRAGMA busy_timeout').get()).toEqual({ timeout: 5000 })
    expect(db.query('PRAGMA user_version').get()).toEqual({ user_version: MIGRATIONS.length })
    const tables = db
      .query(
        "SELECT name, strict FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'memories_fts%'",
      )
      .all() as { name: string; strict: number }[]
    expect(tables.map((t) => t.name).sort()).toEqual([
      'access_log',
      'change_seq',
      'fts_pending',
      'memories',
      'meta',
      'peer_changes',
      'peer_state',
      'pending_deletes',
    ])
    expect(tables.every((t) => t.strict === 1)).toBe(true)
    db.close()
  })

  test('re-opening runs no migration twice; a newer schema is refused with advice', () => {
    dir = mkdtempSync(join(tmpdir(), 'mzm-db-'))
    const path = join(dir, 'pod.db')
    openDatabase(path).close()
    const again = openDatabase(path)
    expect(again.query('SELECT count(*) AS n FROM change_seq').get()).toEqual({ n: 1 })
    again.exec(`PRAGMA user_version = ${MIGRATIONS.length + 1}`)
    again.close()
    expect(() => openDatabase(path)).toThrow(/upgrade mazemaker/)
  })

  test('a newer schema is refused naming both schema versions and this release, the file byte for byte as it was', () => {
    dir = mkdtempSync(join(tmpdir(), 'mzm-db-'))
    for (const journal of ['wal', 'delete']) {
      const path = join(dir, `pod-${journal}.db`)
      // As a newer release might leave it: in WAL mode, or (after a VACUUM elsewhere, a copy) not.
      const newer = new Database(path)
      newer.run(`PRAGMA journal_mode = ${journal}`)
      newer.run('CREATE TABLE from_the_future (x INTEGER)')
      newer.run(`PRAGMA user_version = ${MIGRATIONS.length + 1}`)
      newer.close()
      const before = readFileSync(path)
      expect(() => openDatabase(path)).toThrow(
        `pod.db has schema v${MIGRATIONS.length + 1}, written by a newer mazemaker; this one (${VERSION}) knows schema v${MIGRATIONS.length} at most: upgrade mazemaker to open this home (pod.db was left unchanged)`,
      )
      expect(readFileSync(path).equals(before)).toBe(true)
      expect(existsSync(`${path}-wal`) && statSync(`${path}-wal`).size > 0).toBe(false)
    }
  })

  test('before a migration that rewrites rows, the file as it was is kept 0600 beside it and the upgrade logged with a backup hint', () => {
    dir = mkdtempSync(join(tmpdir(), 'mzm-db-'))
    const path = join(dir, 'pod.db')
    const v3 = new Database(path)
    for (const m of MIGRATIONS.slice(0, 3)) v3.run(m)
    v3.run('PRAGMA user_version = 3')
    v3.run(`INSERT INTO memories (id, label, content, created_at, updated_at, seq, shared) VALUES ('m1', 'public:x', 'x', 't', 't', 1, 1)`)
    v3.close()
    expect([...REWRITES_DATA].some((v) => v > 3)).toBe(true)
    const log = memoryLogger('info')
    const db = openDatabase(path, { log })
    expect(db.query('PRAGMA user_version').get()).toEqual({ user_version: MIGRATIONS.length })
    db.close()

    const copy = join(dir, 'pod.db.schema-v3.bak')
    expect(statSync(copy).mode & 0o777).toBe(0o600)
    const kept = new Database(copy, { readonly: true })
    expect(kept.query('PRAGMA user_version').get()).toEqual({ user_version: 3 })
    expect(kept.query('SELECT id FROM memories').all()).toEqual([{ id: 'm1' }])
    kept.close()
    expect(log.lines).toHaveLength(1)
    expect(log.lines[0]).toContain(`op=migrate from=3 to=${MIGRATIONS.length} copy=${copy}`)
    expect(log.lines[0]).toContain('A full backup (keys too): mazemaker backup')

    // Opening again migrates nothing, copies nothing, says nothing.
    openDatabase(path, { log }).close()
    expect(log.lines).toHaveLength(1)
  })

  test('a fresh database, or one upgraded only by added tables and columns, keeps no copy', () => {
    dir = mkdtempSync(join(tmpdir(), 'mzm-db-'))
    const fresh = join(dir, 'fresh.db')
    openDatabase(fresh).close()
    const v5 = join(dir, 'v5.db')
    const db5 = new Database(v5)
    for (const m of MIGRATIONS.slice(0, 5)) db5.run(m)
    db5.run('PRAGMA user_version = 5')
    db5.close()
    expect([...REWRITES_DATA].every((v) => v <= 5)).toBe(true)
    const log = memoryLogger('info')
    openDatabase(v5, { log }).close()
    expect(log.lines.join('\n')).toContain(`pod.db upgraded from schema v5 to v${MIGRATIONS.length}`)
    expect(readdirSync(dir).filter((f) => f.endsWith('.bak'))).toEqual([])
  })

  test('a v1 database is upgraded in place, rows kept, new indexes in use', () => {
    dir = mkdtempSync(join(tmpdir(), 'mzm-db-'))
    const path = join(dir, 'pod.db')
    const v1 = new Database(path)
    v1.run(MIGRATIONS[0]!)
    v1.run('PRAGMA user_version = 1')
    v1.run(`INSERT INTO memories (id, label, content, created_at, updated_at, seq) VALUES ('m1', 'note:x', 'x', 't', 't', 1)`)
    v1.run(`INSERT INTO memories (id, label, content, created_at, updated_at, seq, shared) VALUES ('m2', 'public:x', 'x', 't', 't', 2, 1)`)
    v1.close()
    const db = openDatabase(path)
    expect(db.query('PRAGMA user_version').get()).toEqual({ user_version: MIGRATIONS.length })
    // Shared rows keep their feed position (peers' cursors stay valid); others have none.
    expect(db.query('SELECT id, feed_seq FROM memories ORDER BY id').all()).toEqual([
      { id: 'm1', feed_seq: null },
      { id: 'm2', feed_seq: 2 },
    ])
    const indexes = (db.query("SELECT name FROM sqlite_schema WHERE type = 'index' AND name LIKE 'memories_%'").all() as { name: string }[]).map((r) => r.name)
    expect(indexes.sort()).toEqual(['memories_copies', 'memories_feed', 'memories_held', 'memories_own', 'memories_own_label', 'memories_unscanned'])
    db.close()
  })

  test("a v7 database counts the per-row overhead into each peer's quota total", () => {
    dir = mkdtempSync(join(tmpdir(), 'mzm-db-'))
    const path = join(dir, 'pod.db')
    const v7 = new Database(path)
    for (const m of MIGRATIONS.slice(0, 7)) v7.run(m)
    v7.run('PRAGMA user_version = 7')
    const peer = '6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f'
    for (let i = 1; i <= 3; i++) {
      v7.run(
        `INSERT INTO memories (id, label, content, created_at, updated_at, seq, origin_peer, origin_id) VALUES ('c${i}', 'peer:x', 'y', 't', 't', ${i}, '${peer}', 'o${i}')`,
      )
    }
    v7.run(`INSERT INTO peer_state (peer_id, copy_bytes) VALUES ('${peer}', 21)`)
    v7.close()
    const db = openDatabase(path)
    expect(db.query('SELECT copy_bytes FROM peer_state').get()).toEqual({ copy_bytes: 21 + 3 * 256 })
    db.close()
  })

  test('four processes opening one fresh file at the same moment all end up on the migrated schema', async () => {
    dir = mkdtempSync(join(tmpdir(), 'mzm-db-'))
    const path = join(dir, 'pod.db')
    const go = join(dir, 'go')
    // Each child spins until the go file exists, so all four open (and race to migrate) together.
    const script = `
      import { existsSync } from 'node:fs'
      import { openDatabase } from ${JSON.stringify(join(import.meta.dir, '../../src/store/database.ts'))}
      while (!existsSync(${JSON.stringify(go)})) {}
      const db = openDatabase(${JSON.stringify(path)})
      console.log(JSON.stringify(db.query('PRAGMA user_version').get()))
      db.close()`
    const children = Array.from({ length: 4 }, () => spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] }))
    const outcomes = children.map(
      (child) =>
        new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
          let out = ''
          let err = ''
          child.stdout!.on('data', (d) => (out += d))
          child.stderr!.on('data', (d) => (err += d))
          child.on('close', (code) => resolve({ code, out, err }))
        }),
    )
    writeFileSync(go, '')
    for (const o of await Promise.all(outcomes)) {
      expect(o.err).toBe('')
      expect(o.code).toBe(0)
      expect(JSON.parse(o.out)).toEqual({ user_version: MIGRATIONS.length })
    }
    const db = openDatabase(path)
    expect(db.query('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' })
    db.close()
  }, 30_000)
})

describe('durability', () => {
  test('local writes commit at synchronous = FULL; a write marked not durable commits at NORMAL and leaves FULL behind', () => {
    const t = tempStores()
    try {
      const store = t.open() // a migrated pod.db
      // The store's write path on a durable connection: the pragma as each transaction sees it.
      const seen: number[] = []
      const db = openDatabase(t.path)
      const ctx = createContext({ db, vault: {} as never, blind: {} as never, clock: t.clock, publicPrefixes: [], maxContentBytes: 10 })
      const level = () => (db.query('PRAGMA synchronous').get() as { synchronous: number }).synchronous
      ctx.write(() => seen.push(level()))
      ctx.write(() => seen.push(level()), { durable: false })
      ctx.write(() => ctx.write(() => seen.push(level()), { durable: false })) // nested: the outer write decides
      seen.push(level())
      expect(seen).toEqual([2, 1, 2, 2])
      db.close()
      const lazy = openDatabase(t.path, { durable: false })
      expect(lazy.query('PRAGMA synchronous').get()).toEqual({ synchronous: 1 })
      lazy.close()
      store.close()
    } finally {
      t.cleanup()
    }
  })
})
