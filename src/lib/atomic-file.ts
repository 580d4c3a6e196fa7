/**
 * Every file the pod writes goes through writeFileAtomic: a temp file in the same directory,
 * created with its final mode (never chmod-ed later), written, fsynced, renamed over the
 * target, then the directory fsynced. A crash leaves either the old file or the new one.
 */
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync, constants } from 'node:fs'
import { dirname, basename, join } from 'node:path'
import { randomBytes } from 'node:crypto'

export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): void {
  const dir = dirname(path)
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  // O_EXCL: never reuse or follow an existing temp file (or a symlink planted there).
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode)
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
    let off = 0
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off)
    fsyncSync(fd)
  } catch (err) {
    closeSync(fd)
    unlinkSync(tmp)
    throw err
  }
  closeSync(fd)
  renameSync(tmp, path)
  fsyncDir(dir)
}

/** Makes a new directory entry durable; some filesystems refuse fsync on directories. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined
  try {
    fd = openSync(dir, constants.O_RDONLY)
    fsyncSync(fd)
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}
