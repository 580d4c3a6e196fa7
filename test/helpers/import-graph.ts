/**
 * The import graph of TypeScript files, read from their text: static imports and re-exports,
 * `import type`, and dynamic `import('…')`, relative specifiers only (packages are not followed).
 * Imports nothing from src/, so the contract-only tests may use it.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'

const SPECIFIER_RE = /(?:\bfrom|\bimport)\s*\(?\s*['"]([^'"]+)['"]/g

/** Every .ts/.mjs file under `dir`, recursively. */
export function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sourceFiles(path)
    return /\.(ts|mjs)$/.test(name) ? [path] : []
  })
}

/** The specifiers `file` imports (relative and package ones). */
export function specifiersOf(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(SPECIFIER_RE)].map((m) => m[1]!)
}

/** The file a relative specifier names (as Bun and Deno's sloppy imports resolve it), or null. */
export function resolveRelative(from: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null
  const base = join(dirname(from), specifier)
  for (const candidate of [base, `${base}.ts`, `${base}.mjs`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate
  }
  return null
}

/** The files `file` imports, directly. */
export function importsOf(file: string): string[] {
  return specifiersOf(file)
    .map((s) => resolveRelative(file, s))
    .filter((f): f is string => f !== null)
}

/** Every file reachable from `entries` through relative imports, the entries included. */
export function reachableFrom(entries: readonly string[]): Set<string> {
  const seen = new Set<string>()
  const todo = [...entries]
  while (todo.length > 0) {
    const file = todo.pop()!
    if (seen.has(file)) continue
    seen.add(file)
    if (/\.(ts|mjs)$/.test(file)) todo.push(...importsOf(file))
  }
  return seen
}
