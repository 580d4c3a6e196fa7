/**
 * The compiled binary (dist/mazemaker) the tests run pods and CLI commands with, never stale:
 * before its first use in a test process it is compared with everything it is built from, and
 * rebuilt (`bun build/compile.ts`) when missing or older. `bun test --parallel` runs several test
 * processes that may all find it stale at once, so the rebuild happens under a cross-process lock
 * (an exclusive mkdir): one builds, the others wait and check again.
 */
import { mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

export const ROOT = join(import.meta.dir, '..', '..')
export const DIST = join(ROOT, 'dist', 'mazemaker')
const LOCK = join(ROOT, 'dist', '.build.lock')
/** A build takes ~1 s; one still holding the lock after this long died holding it. */
const STALE_LOCK_MS = 120_000
const WAIT_MS = 180_000

/** Newest mtime (ms) of the binary's inputs: src/ (recursively), package.json, bun.lock, build/ (recursively). */
export function newestSourceMtime(root = ROOT): number {
  let newest = 0
  const visit = (path: string) => {
    let st: ReturnType<typeof statSync>
    try {
      st = statSync(path)
    } catch {
      return // bun.lock may be absent in a checkout; a file deleted mid-walk no longer matters
    }
    if (st.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name))
    else newest = Math.max(newest, st.mtimeMs)
  }
  for (const p of ['src', 'package.json', 'bun.lock', 'build']) visit(join(root, p))
  return newest
}

/** The binary's mtime (ms), or null when it is missing. */
function binaryMtime(): number | null {
  try {
    return statSync(DIST).mtimeMs
  } catch {
    return null
  }
}

const isFresh = () => {
  const built = binaryMtime()
  return built !== null && built >= newestSourceMtime()
}

/** Takes a build lock (a directory), breaking one left by a process that died holding it; false on timeout. */
export function acquireLock(lock = LOCK, staleMs = STALE_LOCK_MS, waitMs = WAIT_MS): boolean {
  mkdirSync(join(ROOT, 'dist'), { recursive: true })
  const deadline = Date.now() + waitMs
  while (Date.now() < deadline) {
    try {
      mkdirSync(lock)
      return true
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    try {
      if (Date.now() - statSync(lock).mtimeMs > staleMs) rmdirSync(lock)
    } catch {
      // released (or broken) between our mkdir and stat: try again
    }
    Bun.sleepSync(100)
  }
  return false
}

let checked = false

/** The path of a dist/mazemaker that is at least as new as its sources (rebuilding it if needed). */
export function freshBinary(): string {
  if (checked || isFresh()) {
    checked = true
    return DIST
  }
  if (!acquireLock()) throw new Error(`timed out after ${WAIT_MS / 1000} s waiting for ${LOCK} (remove it if no build is running)`)
  try {
    // Another test process may have built it while we waited for the lock.
    if (!isFresh()) {
      const started = performance.now()
      const build = Bun.spawnSync([process.execPath, join(ROOT, 'build', 'compile.ts')], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' })
      if (build.exitCode !== 0) throw new Error(`bun build/compile.ts failed (exit ${build.exitCode}):\n${build.stdout}${build.stderr}`)
      console.error(`test/helpers/binary: dist/mazemaker was missing or older than src/; rebuilt in ${Math.round(performance.now() - started)} ms`)
    }
  } finally {
    rmdirSync(LOCK)
  }
  checked = true
  return DIST
}
