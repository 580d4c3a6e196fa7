/**
 * The release (`npm run release` → dist/release/), never stale: like freshBinary(), it is
 * rebuilt under a cross-process lock when its stamp (release.json, written last) is missing,
 * older than its sources, or from a partial build (--targets).
 */
import { readFileSync, rmdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { acquireLock, newestSourceMtime, ROOT } from './binary'

export const RELEASE_DIR = join(ROOT, 'dist', 'release')
const STAMP = join(RELEASE_DIR, 'release.json')
const LOCK = join(ROOT, 'dist', '.release.lock')
/** All five targets and the npm tarballs take a minute or two; more on a loaded machine. */
const STALE_LOCK_MS = 600_000

export interface ReleaseStamp {
  version: string
  commit: string
  targets: string[]
  npm: boolean
}

function readStamp(): ReleaseStamp | null {
  try {
    const stamp = JSON.parse(readFileSync(STAMP, 'utf8')) as ReleaseStamp
    return stamp.npm && statSync(STAMP).mtimeMs >= newestSourceMtime() ? stamp : null
  } catch {
    return null
  }
}

let checked: ReleaseStamp | null = null

/** dist/release/ complete and at least as new as its sources (rebuilding it if needed); its stamp. */
export function freshRelease(): ReleaseStamp {
  if (checked) return checked
  checked = readStamp()
  if (checked) return checked
  if (!acquireLock(LOCK, STALE_LOCK_MS, STALE_LOCK_MS)) throw new Error(`timed out waiting for ${LOCK} (remove it if no release build is running)`)
  try {
    checked = readStamp()
    if (!checked) {
      const build = Bun.spawnSync([process.execPath, join(ROOT, 'build', 'release.ts')], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' })
      if (build.exitCode !== 0) throw new Error(`bun build/release.ts failed (exit ${build.exitCode}):\n${build.stdout}${build.stderr}`)
      console.error('test/helpers/release: dist/release was missing or older than its sources; rebuilt')
      checked = readStamp()
      if (!checked) throw new Error('bun build/release.ts ran but left no complete release.json')
    }
  } finally {
    rmdirSync(LOCK)
  }
  return checked
}

/** A file of the release. */
export function releasePath(...parts: string[]): string {
  return join(RELEASE_DIR, ...parts)
}

/** Debian's arm64 C library (libc6-arm64-cross), the root qemu-user resolves the binary's loader in. */
export const ARM64_SYSROOT = '/usr/aarch64-linux-gnu'

/** The argv that runs an arm64 Linux binary here: qemu-user with the arm64 C library. */
export function qemuArm64(binary: string): string[] {
  return ['qemu-aarch64-static', '-L', ARM64_SYSROOT, binary]
}
