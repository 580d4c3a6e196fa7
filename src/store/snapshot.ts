/**
 * A consistent copy of pod.db while other connections (a running pod) keep writing: SQLite's
 * `VACUUM INTO` reads one snapshot inside a read transaction and writes a compact, standalone
 * database (no -wal needed). Used by `mazemaker backup`.
 */
import { openSqlite } from '../runtime'
import { BUSY_TIMEOUT_MS } from './database'

/** Writes the snapshot to `outPath`, which must not exist yet (its directory decides who may read it). */
export function snapshotDatabase(dbPath: string, outPath: string): void {
  const db = openSqlite(dbPath, { readonly: true })
  try {
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`)
    db.query('VACUUM INTO ?').run(outPath)
  } finally {
    db.close()
  }
}
