/**
 * The binary's freshness check looks at every input of the build: a change deep in src/, or to
 * package.json, bun.lock or anything under build/, makes dist/mazemaker stale.
 */
import { afterAll, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { newestSourceMtime } from './binary'

const root = mkdtempSync(join(tmpdir(), 'mzm-fresh-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

/** Writes `path` under root with the given mtime (seconds since the epoch). */
function file(path: string, mtime: number): void {
  mkdirSync(join(root, path, '..'), { recursive: true })
  writeFileSync(join(root, path), 'x')
  utimesSync(join(root, path), mtime, mtime)
}

test('the newest of src/ (nested), package.json, bun.lock and build/ (nested); nothing else', () => {
  file('src/main.ts', 1_000)
  file('package.json', 1_100)
  expect(newestSourceMtime(root)).toBe(1_100_000)
  file('src/http/routes/deep.ts', 2_000)
  expect(newestSourceMtime(root)).toBe(2_000_000)
  file('bun.lock', 3_000)
  expect(newestSourceMtime(root)).toBe(3_000_000)
  file('build/compile.ts', 4_000)
  expect(newestSourceMtime(root)).toBe(4_000_000)
  file('build/npm/launcher.cjs', 5_000)
  expect(newestSourceMtime(root)).toBe(5_000_000)
  // Tests, docs and the binary itself are not inputs.
  file('test/x.test.ts', 9_000)
  file('README.md', 9_000)
  file('dist/mazemaker', 9_000)
  expect(newestSourceMtime(root)).toBe(5_000_000)
})
