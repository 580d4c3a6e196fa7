/** Temp directories for identity tests: a fresh mkdtemp root per test, removed afterwards. */
import { afterEach } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Registers cleanup and returns a function that makes a new temp directory. */
export function useTempDirs(): () => string {
  const dirs: string[] = []
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  })
  return () => {
    const dir = mkdtempSync(join(tmpdir(), 'mzm-identity-'))
    dirs.push(dir)
    return dir
  }
}
