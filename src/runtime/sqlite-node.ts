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
  const exec = (sql: string) => db.exec(sql)

  const query = <Row, Params extends SqlValue[]>(sql: string): Statement<Row, Params> => {
    let st = cache.get(sql)
    if (!st) {
      st = wrap(db.prepare(sql))
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

function wrap(st: StatementSync): Statement<unknown, SqlValue[]> {
  return {
    run: (...params) => st.run(...params) as RunResult,
    get: (...params) => st.get(...params) ?? null,
    all: (...params) => st.all(...params),
  }
}
