/**
 * No module-level mutable state in src/: a cache, registry or scratch buffer at the top of a
 * module is shared by every pod in the process (tests run many), outlives the pod that filled it
 * and is invisible to whoever creates the pod. State belongs to an object someone creates (the
 * pod's ScopeMatchers, a PairKey's seal keys, a CLI client's socket connection).
 *
 * Scanned: top-level `const`/`let` bound to a Map, WeakMap, WeakSet, typed array or Buffer.alloc
 * (refused), or to a Set not typed ReadonlySet (a constant lookup table must say it is one).
 */
import { expect, test } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'

const SRC = join(import.meta.dir, '..', 'src')
const TOP_LEVEL = /^(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(:[^=]*)?=\s*(.*)$/
const MUTABLE = /^new\s+(?:Map|WeakMap|WeakSet|(?:Big)?(?:Ui|I)nt(?:8|16|32|64)(?:Clamped)?Array|Float(?:32|64)Array|ArrayBuffer)\b|^Buffer\.alloc/
const SET = /^new\s+Set\b/

/** Module-level mutable state declared in `text`, as "line: code". */
export function moduleState(text: string): string[] {
  const out: string[] = []
  text.split('\n').forEach((line, i) => {
    const m = TOP_LEVEL.exec(line)
    if (!m) return
    const [, , type = '', init = ''] = m
    if (MUTABLE.test(init) || (SET.test(init) && !/^:\s*ReadonlySet</.test(type))) out.push(`${i + 1}: ${line.trim()}`)
  })
  return out
}

test('the scanner sees what it is for (and not constants)', () => {
  expect(moduleState('const cache = new Map<string, number>()')).toHaveLength(1)
  expect(moduleState('export const SCRATCH = new Uint32Array(4)')).toHaveLength(1)
  expect(moduleState('let seen = new Set()')).toHaveLength(1)
  expect(moduleState("const CODES: ReadonlySet<string> = new Set(['a'])")).toEqual([])
  expect(moduleState('  const local = new Map()')).toEqual([]) // inside a function
  expect(moduleState("const SALT = new TextEncoder().encode('x')")).toEqual([])
})

test('no module-level Map, Set or buffer in src/', () => {
  const offenders: string[] = []
  for (const entry of readdirSync(SRC, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !/\.(ts|js)$/.test(entry.name)) continue
    const path = join(entry.parentPath, entry.name)
    for (const hit of moduleState(readFileSync(path, 'utf8'))) offenders.push(`src/${relative(SRC, path)}:${hit}`)
  }
  expect(offenders).toEqual([])
})
