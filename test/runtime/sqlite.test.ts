/**
 * One contract, both SQLite adapters: bun:sqlite (what Bun pods use) and node:sqlite (what Deno
 * pods use; Bun implements it too, so both run here). The pod depends on each behaviour below.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openBunSqlite } from '../../src/runtime/sqlite-bun'
import { openNodeSqlite } from '../../src/runtime/sqlite-node'
import type { SqliteDatabase } from '../../src/runtime'

const adapters = [
  ['bun:sqlite', openBunSqlite],
  ['node:sqlite', openNodeSqlite],
] as const

let dirs: string[] = []
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
  dirs = []
})
const tempDb = () => {
  const dir = mkdtempSync(join(tmpdir(), 'mzm-rt-sqlite-'))
  dirs.push(dir)
  return join(dir, 'x.db')
}

describe.each(adapters)('%s', (_name, open) => {
  const withDb = (fn: (db: SqliteDatabase) => void) => {
    const db = open(':memory:')
    try {
      fn(db)
    } finally {
      db.close()
    }
  }

  test('exec runs a script; query binds ? positionally; get is null when there is no row', () =>
    withDb((db) => {
      db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, n INTEGER, b BLOB) STRICT; CREATE INDEX t_name ON t (name);')
      const ins = db.query('INSERT INTO t (name, n, b) VALUES (?, ?, ?)')
      expect(ins.run('a', 1, new Uint8Array([1, 2]))).toEqual({ changes: 1, lastInsertRowid: 1 })
      ins.run('b', null, null)
      expect({ ...(db.query('SELECT name, n FROM t WHERE id = ?').get(1) as object) }).toEqual({ name: 'a', n: 1 })
      expect(db.query('SELECT name FROM t WHERE id = ?').get(99)).toBeNull()
      expect(
        db
          .query<{ name: string }>('SELECT name FROM t ORDER BY id')
          .all()
          .map((r) => r.name),
      ).toEqual(['a', 'b'])
      const blob = (db.query('SELECT b FROM t WHERE id = 1').get() as { b: Uint8Array }).b
      expect([...blob]).toEqual([1, 2])
      expect(db.query('UPDATE t SET n = 5').run().changes).toBe(2)
      expect(db.query('SELECT 1 AS x').all()).toHaveLength(1)
    }))

  test('a run() result reads its own changes and rowid', () =>
    withDb((db) => {
      db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)')
      const ins = db.query('INSERT INTO t (v) VALUES (?)')
      expect(ins.run('a').lastInsertRowid).toBe(1)
      expect(ins.run('b').lastInsertRowid).toBe(2)
      expect(db.query('DELETE FROM t WHERE id > ?').run(5).changes).toBe(0)
      expect(db.query('UPDATE t SET v = ? RETURNING id').run('c').changes).toBe(2)
    }))

  test('rows keep their column names through a schema change that re-prepares the statement', () =>
    withDb((db) => {
      db.exec('CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1)')
      const all = db.query('SELECT * FROM t')
      expect(all.get()).toEqual({ a: 1 })
      db.exec("ALTER TABLE t ADD COLUMN b TEXT DEFAULT 'x'")
      expect(all.get()).toEqual({ a: 1, b: 'x' })
      expect(all.all()).toEqual([{ a: 1, b: 'x' }])
      db.exec('ALTER TABLE t RENAME COLUMN a TO z')
      expect(all.get()).toEqual({ z: 1, b: 'x' })
      expect(all.all()).toEqual([{ z: 1, b: 'x' }])
    }))

  test("two result columns of one name: the last one is the row's", () =>
    withDb((db) => {
      expect(db.query('SELECT 1 AS a, 2 AS a').get()).toEqual({ a: 2 })
      expect(db.query('SELECT 1 AS a, 2 AS b, 3 AS a').all()).toEqual([{ a: 3, b: 2 }])
    }))

  test('a column name is a key, whatever its characters: never code, never the prototype', () =>
    withDb((db) => {
      const row = db.query(`SELECT 1 AS "a""b", 2 AS "x\\y", 3 AS "__proto__", 4 AS "}); throw 1; ({", 5 AS "constructor", 6 AS "r[0]"`).get() as Record<
        string,
        unknown
      >
      expect(Object.keys(row)).toEqual(['a"b', 'x\\y', '__proto__', '}); throw 1; ({', 'constructor', 'r[0]'])
      expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).toBe(3)
      expect(Object.getPrototypeOf(row)).toBe(Object.prototype)
      expect(row['x\\y']).toBe(2)
      expect(row['r[0]']).toBe(6)
      expect(row.constructor as unknown).toBe(5)
    }))

  test('query returns the same prepared statement for the same SQL', () =>
    withDb((db) => {
      expect(db.query('SELECT 1')).toBe(db.query('SELECT 1'))
    }))

  test('a RETURNING insert hands back the new row; an integer column reads as a number', () =>
    withDb((db) => {
      db.exec('CREATE TABLE c (one INTEGER PRIMARY KEY, value INTEGER NOT NULL); INSERT INTO c VALUES (1, 41)')
      expect((db.query('UPDATE c SET value = value + ? WHERE one = 1 RETURNING value').get(1) as { value: number }).value).toBe(42)
    }))

  test('a transaction commits; a throw rolls it back and is rethrown', () =>
    withDb((db) => {
      db.exec('CREATE TABLE t (v TEXT)')
      const add = db.transaction((v: string, fail: boolean) => {
        db.query('INSERT INTO t VALUES (?)').run(v)
        if (fail) throw new Error('boom')
        return v.length
      })
      expect(add('ok', false)).toBe(2)
      expect(() => add.immediate('no', true)).toThrow('boom')
      expect(add.deferred('yes', false)).toBe(3)
      expect(
        db
          .query<{ v: string }>('SELECT v FROM t')
          .all()
          .map((r) => r.v),
      ).toEqual(['ok', 'yes'])
    }))

  test('a nested transaction is a savepoint: its rollback keeps the outer writes', () =>
    withDb((db) => {
      db.exec('CREATE TABLE t (v TEXT)')
      const ins = (v: string) => db.query('INSERT INTO t VALUES (?)').run(v)
      db.transaction(() => {
        ins('outer')
        expect(() =>
          db
            .transaction(() => {
              ins('inner')
              throw new Error('inner fails')
            })
            .immediate(),
        ).toThrow('inner fails')
        db.transaction(() => ins('inner ok'))()
      }).immediate()
      expect(
        db
          .query<{ v: string }>('SELECT v FROM t')
          .all()
          .map((r) => r.v),
      ).toEqual(['outer', 'inner ok'])
    }))

  test('FTS5 is compiled in: MATCH, rowid, a contentless-style external index', () =>
    withDb((db) => {
      db.exec("CREATE VIRTUAL TABLE f USING fts5(label, body, tokenize = 'unicode61')")
      db.query('INSERT INTO f (rowid, label, body) VALUES (?, ?, ?)').run(7, 'public note', 'hello federated world')
      db.query('INSERT INTO f (rowid, label, body) VALUES (?, ?, ?)').run(8, 'other', 'goodbye')
      expect(db.query('SELECT rowid FROM f WHERE f MATCH ? ORDER BY bm25(f)').all('hello')).toEqual([{ rowid: 7 }])
    }))

  test('foreign keys are off until asked for, as SQLite ships', () =>
    withDb((db) => {
      expect({ ...(db.query('PRAGMA foreign_keys').get() as object) }).toEqual({ foreign_keys: 0 })
      db.exec('PRAGMA foreign_keys = ON')
      expect({ ...(db.query('PRAGMA foreign_keys').get() as object) }).toEqual({ foreign_keys: 1 })
    }))

  test('a file opens read-write, then read-only (writes refused); a missing file read-only fails', () => {
    const path = tempDb()
    const rw = open(path)
    rw.exec('PRAGMA journal_mode = WAL; CREATE TABLE t (v TEXT); INSERT INTO t VALUES (1)')
    rw.close()
    const ro = open(path, { readonly: true })
    expect(ro.query('SELECT count(*) AS n FROM t').get()).toEqual({ n: 1 })
    expect(() => ro.exec('INSERT INTO t VALUES (2)')).toThrow(/readonly/)
    ro.close()
    expect(() => open(join(path, '..', 'missing.db'), { readonly: true })).toThrow()
  })

  test('a file written by one adapter opens in the other (pods move between runtimes)', () => {
    const path = tempDb()
    const [, other] = adapters.find(([, o]) => o !== open)!
    const a = open(path)
    a.exec("PRAGMA journal_mode = WAL; CREATE VIRTUAL TABLE f USING fts5(body); INSERT INTO f (rowid, body) VALUES (1, 'portable text')")
    a.close()
    const b = other(path)
    expect(b.query('SELECT rowid FROM f WHERE f MATCH ?').all('portable')).toEqual([{ rowid: 1 }])
    b.close()
  })
})
