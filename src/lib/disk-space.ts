/**
 * Free space under the pod's home, and the typed error a full disk becomes. SQLite says
 * "database or disk is full" (SQLITE_FULL), file writes say ENOSPC (or EDQUOT over a quota):
 * both turn into DiskFull, which names the filesystem and what is free on it, so the operator
 * (and the HTTP layer's 507, and the sync loop's pause) know what happened without the log.
 * Nothing stored is lost by a refused write: SQLite rolls the transaction back, and the next
 * write succeeds once there is room again.
 */
import { readFileSync, realpathSync, statfsSync } from 'node:fs'
import { PodError } from './errors'
import { formatBytes } from './format-bytes'

export interface DiskSpace {
  /** The mount point of the filesystem holding the directory (the directory itself where unknown). */
  path: string
  /** Bytes an unprivileged writer may still use there. */
  free_bytes: number
  total_bytes: number
}

/** A write was refused because the filesystem is full: 507 `disk_full`. */
export class DiskFull extends PodError {
  constructor(
    readonly space: DiskSpace,
    dir: string,
    opts?: { cause?: unknown },
  ) {
    const where = space.path === dir ? dir : `${space.path} (holding ${dir})`
    super(
      'disk_full',
      `the disk is full: ${where} has ${formatBytes(space.free_bytes)} free; free some space there (nothing stored is lost, writes resume by themselves)`,
      opts,
    )
  }
}

export function diskSpace(dir: string): DiskSpace {
  const fs = statfsSync(dir)
  return { path: mountPointOf(dir), free_bytes: fs.bavail * fs.bsize, total_bytes: fs.blocks * fs.bsize }
}

/** Whether `err` is a write refused for lack of space (SQLite or the filesystem). */
export function isDiskFullError(err: unknown): boolean {
  if (err instanceof DiskFull) return true
  const e = err as { code?: unknown; errcode?: unknown; message?: unknown } | null
  if (!e || typeof e !== 'object') return false
  if (e.code === 'SQLITE_FULL' || e.code === 'ENOSPC' || e.code === 'EDQUOT' || e.errcode === 13) return true
  // node:sqlite (Deno) reports every SQLite error as ERR_SQLITE_ERROR: the message tells.
  return typeof e.message === 'string' && e.message.includes('database or disk is full')
}

/** `err` as a DiskFull naming the filesystem of `dir`, or `err` itself when it is something else. */
export function asDiskFull(err: unknown, dir: string): unknown {
  if (err instanceof DiskFull || !isDiskFullError(err)) return err
  let space: DiskSpace
  try {
    space = diskSpace(dir)
  } catch {
    space = { path: dir, free_bytes: 0, total_bytes: 0 }
  }
  return new DiskFull(space, dir, { cause: err })
}

/** The longest mount point (from /proc/self/mountinfo) that contains `dir`; `dir` where there is none (not Linux). */
function mountPointOf(dir: string): string {
  let real = dir
  try {
    real = realpathSync(dir)
    const lines = readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    let best = ''
    for (const line of lines) {
      // Field 5 is the mount point, with spaces and the like as octal escapes (\040).
      const raw = line.split(' ')[4]
      if (!raw) continue
      const mount = raw.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)))
      const inside = mount === '/' || real === mount || real.startsWith(`${mount}/`)
      if (inside && mount.length > best.length) best = mount
    }
    return best || real
  } catch {
    return real
  }
}
