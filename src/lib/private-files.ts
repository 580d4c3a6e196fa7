/**
 * Low-level file rules of the home directory: private modes (no group/other bits), reading a
 * file only after its mode checks out, and creating a file exactly once (a second process
 * racing us on first boot never overwrites what the first one wrote).
 */
import { linkSync, lstatSync, mkdirSync, readFileSync, renameSync, statSync, unlinkSync, type Stats } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { HomeError } from './errors'
import { fsyncDir, writeFileAtomic } from './atomic-file'

const GROUP_OTHER_BITS = 0o077

export function modeText(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`
}

function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code
}

export function isMissing(err: unknown): boolean {
  return errnoOf(err) === 'ENOENT'
}

/**
 * stat, or null when the path does not exist (ENOENT; any other failure throws). Without the
 * exception: a pull looks for each peer's headers file on every request, and most peers have
 * none; Deno made and caught an error for it in about 40 µs, twice a stat's cost.
 */
export function statOrNull(path: string): Stats | null {
  return statSync(path, { throwIfNoEntry: false }) ?? null
}

/** Creates `path` (and parents) 0700 if missing; refuses an existing one that others can reach. */
export function ensurePrivateDir(path: string, label: string): boolean {
  let st = statOrNull(path)
  let created = false
  if (!st) {
    mkdirSync(path, { recursive: true, mode: 0o700 })
    created = true
    st = statSync(path)
  }
  if (!st.isDirectory()) throw new HomeError(`${label} ${path} is not a directory; move it away or choose another home (--home)`)
  if (st.mode & GROUP_OTHER_BITS) {
    throw new HomeError(`${label} ${path} has mode ${modeText(st.mode)}; run: chmod 700 ${path}`)
  }
  return created
}

/** Throws unless `path` is a regular file with no group/other permission bits. */
export function checkPrivateFile(path: string, label: string, st: Stats): void {
  if (!st.isFile()) throw new HomeError(`${label} at ${path} is not a regular file; move it away and restore the file from backup`)
  if (st.mode & GROUP_OTHER_BITS) {
    throw new HomeError(`${label} at ${path} has mode ${modeText(st.mode)}; run: chmod 600 ${path}`)
  }
}

/** Contents of a private (0600) file, or null if it does not exist. */
export function readPrivateFile(path: string, label: string): string | null {
  const st = statOrNull(path)
  if (!st) return null
  checkPrivateFile(path, label, st)
  return readFileSync(path, 'utf8')
}

/**
 * Writes `data` to `path` (0600, atomically) only if `path` does not exist yet. Returns false
 * when another process created it first; its content then wins and ours is discarded.
 */
export function createFileOnce(path: string, data: string): boolean {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.new`)
  writeFileAtomic(tmp, data, 0o600)
  try {
    // link() fails with EEXIST instead of replacing, unlike rename().
    linkSync(tmp, path)
    fsyncDir(dirname(path))
    return true
  } catch (err) {
    if (errnoOf(err) === 'EEXIST') return false
    // Filesystems without hard links: fall back to rename after a last existence check.
    if (lstatOrNull(path)) return false
    renameSync(tmp, path)
    fsyncDir(dirname(path))
    return true
  } finally {
    try {
      unlinkSync(tmp)
    } catch {
      // Already renamed into place.
    }
  }
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path)
  } catch (err) {
    if (isMissing(err)) return null
    throw err
  }
}
