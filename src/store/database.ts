/**
 * Opens pod.db: creates the file 0600 before SQLite touches it, refuses a schema newer than this
 * build knows before anything could write to the file, sets the connection PRAGMAs and brings the
 * schema up to date (migrations.ts). Safe when several processes open the same file.
 */
import { closeSync, existsSync, openSync, rmSync } from 'node:fs'
import { PodError } from '../lib/errors'
import type { Logger } from '../lib/log'
import { VERSION } from '../lib/version'
import { openSqlite, type SqliteDatabase } from '../runtime'
import { MIGRATIONS, REWRITES_DATA } from './migrations'

/** How long a connection waits for another one's write lock before failing with SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5000
const PAGE_CACHE_KIB = 16 * 1024

export interface OpenDatabaseOptions {
  /** Where a schema upgrade is reported (and the copy kept before it). */
  log?: Logger
  /** false: commits are not synced (see the synchronous pragma below); true when left out. */
  durable?: boolean
}

export function openDatabase(path: string, opts: OpenDatabaseOptions = {}): SqliteDatabase {
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
    // Before journal_mode, which rewrites the header of a file not yet in WAL mode: a home from
    // a newer release is left exactly as it was.
    refuseNewerSchema(db)
    const { journal_mode: mode } = db.query('PRAGMA journal_mode = WAL').get() as { journal_mode: string }
    if (mode !== 'wal' && path !== ':memory:') {
      throw new PodError('bad_home', `${path} cannot use WAL journaling (got "${mode}"); keep the home on a local filesystem`)
    }
    // FULL: in WAL mode every commit syncs the WAL (fdatasync) before it returns, so a write the
    // pod acknowledged survives a power cut, not only a killed process. Writes that can be redone
    // (pulled pages) switch to NORMAL for their own commit (ctx.write's durable: false), and
    // group commit makes one sync serve many remembers. `durable: false` (the operator's
    // MAZEMAKER_UNSAFE_NO_FSYNC) leaves the whole connection at NORMAL: consistent, but a power
    // cut may drop the last acknowledged writes.
    db.exec(`PRAGMA synchronous = ${opts.durable === false ? 'NORMAL' : 'FULL'}`)
    db.exec('PRAGMA foreign_keys = ON')
    // Deleted and overwritten content is zeroed, not left in free pages and free blocks: a
    // memory made private (re-labelled, or its prefix removed) leaves no plaintext behind.
    db.exec('PRAGMA secure_delete = ON')
    // Recall reads whole FTS doclists; 16 MB of page cache (default 2 MB) keeps the hot ones in
    // process. It only fills as pages are read, so an idle pod stays small.
    db.exec(`PRAGMA cache_size = -${PAGE_CACHE_KIB}`)
    migrate(db, path, opts.log)
  } catch (err) {
    db.close()
    throw err
  }
  return db
}

function userVersion(db: SqliteDatabase): number {
  return (db.query('PRAGMA user_version').get() as { user_version: number }).user_version
}

/** Throws `schema_too_new` for a pod.db written by a newer release, naming both schema versions. */
function refuseNewerSchema(db: SqliteDatabase): number {
  const v = userVersion(db)
  if (v > MIGRATIONS.length) {
    throw new PodError(
      'schema_too_new',
      `pod.db has schema v${v}, written by a newer mazemaker; this one (${VERSION}) knows schema v${MIGRATIONS.length} at most: ` +
        'upgrade mazemaker to open this home (pod.db was left unchanged)',
    )
  }
  return v
}

/**
 * Runs each pending migration in its own IMMEDIATE transaction, re-checking the version inside it.
 * When one of them rewrites rows of an existing database, the file as it was is first copied
 * beside it (`pod.db.schema-v<N>.bak`, 0600) and the upgrade is logged with a backup hint.
 */
function migrate(db: SqliteDatabase, path: string, log: Logger | undefined): void {
  const from = refuseNewerSchema(db)
  if (from === MIGRATIONS.length) return
  const rewrites = [...REWRITES_DATA].filter((v) => v > from).sort((a, b) => a - b)
  const copy = from > 0 && rewrites.length > 0 && path !== ':memory:' ? keepCopy(db, `${path}.schema-v${from}.bak`) : null
  for (let i = 0; i < MIGRATIONS.length; i++) {
    db.transaction(() => {
      // Another process may have migrated while we waited for the write lock.
      if (refuseNewerSchema(db) !== i) return
      db.exec(MIGRATIONS[i]!)
      db.exec(`PRAGMA user_version = ${i + 1}`)
    }).immediate()
  }
  if (from > 0) {
    log?.info({
      op: 'migrate',
      from,
      to: MIGRATIONS.length,
      copy: copy ?? undefined,
      msg: copy
        ? `pod.db upgraded from schema v${from} to v${MIGRATIONS.length}, rewriting existing rows (v${rewrites.join(', v')}); the file as it was is ${copy}: remove it once this pod runs well. A full backup (keys too): mazemaker backup`
        : `pod.db upgraded from schema v${from} to v${MIGRATIONS.length}`,
    })
  }
}

/** `VACUUM INTO` a fresh 0600 file (an earlier copy at that path is kept, not overwritten); its path. */
function keepCopy(db: SqliteDatabase, copy: string): string {
  if (existsSync(copy)) return copy
  closeSync(openSync(copy, 'wx', 0o600))
  try {
    db.exec(`VACUUM INTO '${copy.replace(/'/g, "''")}'`)
  } catch (err) {
    rmSync(copy, { force: true })
    throw err
  }
  return copy
}
