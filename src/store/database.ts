/**
 * Opens pod.db: creates the file 0600 before SQLite touches it, sets the connection PRAGMAs and
 * brings the schema up to date (migrations.ts). Safe when several processes open the same file.
 */
import { closeSync, existsSync, openSync } from 'node:fs'
import { PodError } from '../lib/errors'
import { openSqlite, type SqliteDatabase } from '../runtime'
import { MIGRATIONS } from './migrations'

/** How long a connection waits for another one's write lock before failing with SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5000
const PAGE_CACHE_KIB = 16 * 1024

export function openDatabase(path: string): SqliteDatabase {
  if (path !== ':memory:' && !existsSync(path)) {
    // Created with its final mode before SQLite opens it; -wal and -shm copy the mode of the
    // main file, so none of the three is ever world-readable. 'a' never truncates a file that
    // another process created in between.
    closeSync(openSync(path, 'a', 0o600))
  }
  const db = openSqlite(path)
  try {
    // busy_timeout first, so the PRAGMAs and the migration below wait for other connections.
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`)
    const { journal_mode: mode } = db.query('PRAGMA journal_mode = WAL').get() as { journal_mode: string }
    if (mode !== 'wal' && path !== ':memory:') {
      throw new PodError('bad_home', `${path} cannot use WAL journaling (got "${mode}"); keep the home on a local filesystem`)
    }
    // In WAL mode NORMAL fsyncs at checkpoints, not at every commit: a killed process (kill -9)
    // loses nothing that was committed, only a power loss can drop the last few transactions,
    // and the database stays consistent either way.
    db.exec('PRAGMA synchronous = NORMAL')
    db.exec('PRAGMA foreign_keys = ON')
    // Deleted and overwritten content is zeroed, not left in free pages and free blocks: a
    // memory made private (re-labelled, or its prefix removed) leaves no plaintext behind.
    db.exec('PRAGMA secure_delete = ON')
    // Recall reads whole FTS doclists; 16 MB of page cache (default 2 MB) keeps the hot ones in
    // process. It only fills as pages are read, so an idle pod stays small.
    db.exec(`PRAGMA cache_size = -${PAGE_CACHE_KIB}`)
    migrate(db)
  } catch (err) {
    db.close()
    throw err
  }
  return db
}

function userVersion(db: SqliteDatabase): number {
  return (db.query('PRAGMA user_version').get() as { user_version: number }).user_version
}

/** Runs each pending migration in its own IMMEDIATE transaction, re-checking the version inside it. */
function migrate(db: SqliteDatabase): void {
  const check = () => {
    const v = userVersion(db)
    if (v > MIGRATIONS.length) {
      throw new PodError(
        'schema_too_new',
        `pod.db has schema v${v} but this mazemaker knows only up to v${MIGRATIONS.length}; upgrade mazemaker before opening it`,
      )
    }
    return v
  }
  if (check() === MIGRATIONS.length) return
  for (let i = 0; i < MIGRATIONS.length; i++) {
    db.transaction(() => {
      // Another process may have migrated while we waited for the write lock.
      if (check() !== i) return
      db.exec(MIGRATIONS[i]!)
      db.exec(`PRAGMA user_version = ${i + 1}`)
    }).immediate()
  }
}
