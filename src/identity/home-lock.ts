/**
 * pod.lock: one pod per home. The lock file holds our pid (first line) and, where /proc exists,
 * the boot id and process start time, so a stale lock whose pid was reused (pid 1 in a restarted
 * container) is still recognised as stale. Created O_EXCL; a lock whose process is gone is replaced.
 */
import { closeSync, constants, fsyncSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { HomeError } from '../lib/errors'
import { isMissing } from '../lib/private-files'
import type { HomePaths } from './types'

const LOCK_ATTEMPTS = 4

export interface HomeLock {
  release(): void
}

interface Holder {
  pid: number
  start: string | null
  raw: string
}

/** `<boot id>:<start time in clock ticks>` of a process, or null off Linux. */
function processStart(pid: number): string | null {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Field 22 (starttime); fields after the ")" that closes the command name are space-separated.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const start = fields[19]
    return start ? `${boot}:${start}` : null
  } catch {
    return null
  }
}

function parseHolder(raw: string): Holder | null {
  const [pidLine, startLine] = raw.split('\n')
  if (!pidLine || !/^[1-9][0-9]{0,9}$/.test(pidLine)) return null
  return { pid: Number(pidLine), start: startLine?.trim() || null, raw }
}

function isAlive(holder: Holder): boolean {
  try {
    process.kill(holder.pid, 0)
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  if (holder.start === null) return true
  const now = processStart(holder.pid)
  return now === null || now === holder.start
}

function readLock(path: string): string | null {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    if (isMissing(err)) return null
    throw err
  }
}

function locked(paths: HomePaths, holder: Holder): HomeError {
  return new HomeError(`home ${paths.root} is locked by pid ${holder.pid}; is another pod running?`)
}

/** Takes the home's lock or throws HomeError naming the pid that holds it. */
export function lockHome(paths: HomePaths): HomeLock {
  const start = processStart(process.pid)
  const content = `${process.pid}\n${start ?? ''}\n`
  for (let attempt = 0; attempt < LOCK_ATTEMPTS; attempt++) {
    let fd: number
    try {
      fd = openSync(paths.lock, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const raw = readLock(paths.lock)
      if (raw === null) continue
      const holder = parseHolder(raw)
      if (holder && isAlive(holder)) throw locked(paths, holder)
      replaceStale(paths, raw)
      continue
    }
    try {
      writeSync(fd, content)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    let released = false
    return {
      release() {
        if (released) return
        released = true
        // Only remove the lock if it is still ours.
        if (readLock(paths.lock) === content) unlinkSync(paths.lock)
      },
    }
  }
  throw new HomeError(`could not take the lock ${paths.lock}; another process keeps recreating it`)
}

/**
 * Moves a stale lock aside. The rename is atomic, so of two processes replacing the same stale
 * lock only one moves it; if what we moved turns out to be a fresh lock, it is put back.
 */
function replaceStale(paths: HomePaths, staleRaw: string): void {
  const aside = `${paths.lock}.${randomBytes(6).toString('hex')}.stale`
  try {
    renameSync(paths.lock, aside)
  } catch (err) {
    if (isMissing(err)) return
    throw err
  }
  try {
    if (readFileSync(aside, 'utf8') !== staleRaw) {
      try {
        linkSync(aside, paths.lock)
      } catch {
        // Someone locked meanwhile; theirs stays.
      }
    }
  } finally {
    unlinkSync(aside)
  }
}
