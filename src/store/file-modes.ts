/**
 * pod.db and its -wal/-shm hold every memory: nobody but the pod's user may read them. The pod
 * owns these files, so at open it fixes a loose mode to 0600 (and the caller says so at warn)
 * rather than refusing to start; `mazemaker doctor` reports the same problem without fixing it.
 * Fixed before SQLite opens the database: SQLite gives a new -wal/-shm the main file's mode.
 */
import { chmodSync, statSync } from 'node:fs'
import { PodError } from '../lib/errors'

/** The main file and the two files SQLite keeps beside it in WAL mode. */
export const DB_FILE_SUFFIXES = ['', '-wal', '-shm'] as const
export const DB_FILE_MODE = 0o600

export interface LooseFile {
  path: string
  /** Permission bits found, e.g. 0o644. */
  mode: number
}

/** The database files that exist with group or other permission bits set. */
export function looseDbFiles(dbPath: string): LooseFile[] {
  if (dbPath === ':memory:') return []
  const out: LooseFile[] = []
  for (const suffix of DB_FILE_SUFFIXES) {
    const path = dbPath + suffix
    let mode: number
    try {
      mode = statSync(path).mode & 0o777 // a symlinked pod.db: the bits of the file SQLite opens
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue
      throw err
    }
    if (mode & 0o077) out.push({ path, mode })
  }
  return out
}

/** Sets every loose database file to 0600; returns what it changed (the caller logs it). */
export function fixDbFileModes(dbPath: string): LooseFile[] {
  const loose = looseDbFiles(dbPath)
  for (const f of loose) {
    try {
      chmodSync(f.path, DB_FILE_MODE)
    } catch (err) {
      throw new PodError('bad_home', `${f.path} is mode ${formatMode(f.mode)} and cannot be made 0600 (${(err as Error).message}); chmod 600 it as its owner`, {
        cause: err,
      })
    }
  }
  return loose
}

export function formatMode(mode: number): string {
  return '0' + mode.toString(8).padStart(3, '0')
}
