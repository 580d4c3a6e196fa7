/**
 * A consistent copy of pod.db while other connections (a running pod) keep writing: SQLite's
 * `VACUUM INTO` reads one snapshot inside a read transaction and writes a compact, standalone
 * database (no -wal needed). Used by `mazemaker backup`.
 */
import { Database } from 'bun:sqlite'
import { BUSY_TIMEOUT_MS } from './database'

/** Writes the snapshot to `outPath`, which must not exist yet (its directory decides who may read it). */
export function snapshotDatabase(dbPath: string, outPath: string): void {
  const db = new Database(dbPath, { readonly: true, strict: true })
  try {
    db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`)
    db.query('VACUUM INTO ?').run(outPath)
  } finally {
    db.close()
  }
}
