/**
 * SQLite through node:sqlite (what Deno offers; Bun has it too, which lets one test suite check
 * this adapter against bun:sqlite's). node:sqlite has prepared statements but no statement cache
 * and no transaction helper, so both are here, with bun:sqlite's semantics: `query` caches by SQL
 * text, `get` returns null for no row, and a transaction called inside another one becomes a
 * SAVEPOINT.
 */
import type { StatementSync } from 'node:sqlite'
import type { OpenSqliteOptions, RunResult, SqliteDatabase, SqlValue, Statement, Transaction } from './types'

/** SQLite allows reusing a savepoint name; the innermost one is the one released or rolled back. */
const SAVEPOINT = 'mzm_nested'
/** ALTER (RENAME, DROP COLUMN) and DROP (then CREATE under the same name). */
const RENAMING_DDL = /\b(ALTER|DROP)\b/i

export function openNodeSqlite(path: string, opts: OpenSqliteOptions = {}): SqliteDatabase {
  // Loaded on first use, so a Bun pod never loads a second SQLite binding.
  const { DatabaseSync } = process.getBuiltinModule('node:sqlite')
  const db = new DatabaseSync(path, {
    readOnly: opts.readonly ?? false,
    // node:sqlite turns foreign keys on by default; SQLite (and bun:sqlite) leave them off.
    // Same default on both runtimes: the store turns them on with a PRAGMA, as it always did.
    enableForeignKeyConstraints: false,
  })
  const cache = new Map<string, Statement<unknown, SqlValue[]>>()
  // Bumped by DDL that can rename a result's columns without changing their number (wrap() below).
  const schema = { generation: 0 }
  const exec = (sql: string) => {
    if (RENAMING_DDL.test(sql)) schema.generation++
    db.exec(sql)
  }

  const query = <Row, Params extends SqlValue[]>(sql: string): Statement<Row, Params> => {
    let st = cache.get(sql)
    if (!st) {
      st = wrap(db.prepare(sql), schema)
      cache.set(sql, st)
    }
    return st as unknown as Statement<Row, Params>
  }

  const transaction = <A extends unknown[], R>(fn: (...args: A) => R): Transaction<A, R> => {
    const run = (begin: string, args: A): R => {
      if (db.isTransaction) {
        exec(`SAVEPOINT ${SAVEPOINT}`)
        try {
          const out = fn(...args)
          exec(`RELEASE ${SAVEPOINT}`)
          return out
        } catch (err) {
          exec(`ROLLBACK TO ${SAVEPOINT}`)
          exec(`RELEASE ${SAVEPOINT}`)
          throw err
        }
      }
      exec(begin)
      try {
        const out = fn(...args)
        exec('COMMIT')
        return out
      } catch (err) {
        // A failed COMMIT (SQLITE_BUSY past busy_timeout) leaves the transaction open: end it too.
        if (db.isTransaction) exec('ROLLBACK')
        throw err
      }
    }
    const deferred = (...args: A) => run('BEGIN', args)
    return Object.assign(deferred, { deferred, immediate: (...args: A) => run('BEGIN IMMEDIATE', args) })
  }

  return {
    query,
    exec,
    transaction,
    close() {
      cache.clear()
      db.close()
    },
  }
}

/**
 * Rows come from node:sqlite as arrays and are made objects here: Deno builds its own row objects
 * slowly (100 pages of 1,000 feed rows read in 206 ms as objects, 137 ms as arrays made objects
 * here; a single-row get 6.2 µs against 5.4). Column names are read once per statement (columns()
 * costs about 4 µs) and again when a row's width changes (a `SELECT *` re-prepared after ADD
 * COLUMN) or after this connection ran DDL that renames; the pod's schema changes only by its
 * migrations, on the connection that reads.
 */
function wrap(st: StatementSync, schema: { generation: number }): Statement<unknown, SqlValue[]> {
  st.setReturnArrays(true)
  let width = -1
  let generation = -1
  let build: (row: SqlValue[]) => Record<string, SqlValue> = () => ({})
  const toObject = (row: SqlValue[]): Record<string, SqlValue> => {
    if (row.length !== width || generation !== schema.generation) {
      build = rowBuilder(st.columns().map((c) => c.name))
      width = row.length
      generation = schema.generation
    }
    return build(row)
  }
  return {
    // The native method itself: a wrapper spreading 576 values (a 64-row insert) cost Deno 10 % more per call.
    run: st.run.bind(st) as (...params: SqlValue[]) => RunResult,
    get: (...params) => {
      const row = st.get(...params) as unknown as SqlValue[] | undefined
      return row === undefined ? null : toObject(row)
    },
    all: (...params) => (st.all(...params) as unknown as SqlValue[][]).map(toObject),
  }
}

/**
 * A function making a row array into an object with these keys, as one object literal: each row
 * of a statement gets its shape at once. Keys assigned one by one went through V8's slow keyed
 * stores: 100 feed pages of 1,000 rows read and encoded in 0.22-0.26 s of CPU under Deno, in
 * 0.17-0.19 s with this. Names are JSON string literals, so a column name is data, never code;
 * `__proto__` is a computed key, an own property as in bun:sqlite's rows, not the prototype. Two
 * columns of one name: the last wins, as in node:sqlite's own objects.
 */
function rowBuilder(names: readonly string[]): (row: SqlValue[]) => Record<string, SqlValue> {
  const last = new Map(names.map((n, i) => [n, i]))
  const key = (n: string) => (n === '__proto__' ? `[${JSON.stringify(n)}]` : JSON.stringify(n))
  const fields = [...last].map(([n, i]) => `${key(n)}: r[${i}]`).join(', ')
  return new Function('r', `return { ${fields} }`) as (row: SqlValue[]) => Record<string, SqlValue>
}
