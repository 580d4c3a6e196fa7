/** src/runtime/ is the only place that names Bun or Deno (STYLE.md §12): everything else runs on both. */
import { expect, test } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'

const SRC = join(import.meta.dir, '..', '..', 'src')
// Bun's import.meta extras (dir, path, require) count too: Deno has none of them.
const RUNTIME_NAMES = /Bun\.|bun:|Deno\.|from ['"]bun['"]|import\.meta\.(dir|path|require)\b/

test('no file outside src/runtime/ names Bun or Deno', () => {
  const offenders: string[] = []
  for (const entry of readdirSync(SRC, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const path = join(entry.parentPath, entry.name)
    const rel = relative(SRC, path)
    if (rel.startsWith('runtime/')) continue
    readFileSync(path, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (RUNTIME_NAMES.test(line)) offenders.push(`src/${rel}:${i + 1}: ${line.trim()}`)
      })
  }
  expect(offenders).toEqual([])
})

test('the check itself sees a runtime name', () => {
  expect(RUNTIME_NAMES.test("import { Database } from 'bun:sqlite'")).toBe(true)
  expect(RUNTIME_NAMES.test('Bun.serve({ fetch })')).toBe(true)
  expect(RUNTIME_NAMES.test('Deno.serve(handler)')).toBe(true)
  expect(RUNTIME_NAMES.test("import type { Server } from 'bun'")).toBe(true)
  expect(RUNTIME_NAMES.test("join(import.meta.dir, 'panel')")).toBe(true)
  expect(RUNTIME_NAMES.test('if (import.meta.main) main()')).toBe(false)
})
