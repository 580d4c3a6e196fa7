/**
 * What every command loads before it runs: the static import graph of src/main.ts (type-only and
 * dynamic imports excluded, as Bun's transpiler sees them). The MCP SDK (with zod) and age (with
 * its post-quantum curves) cost more at start than all the rest of a CLI command; they load only
 * in the commands and routes that use them. Measured: bench/README.md, "Start-up".
 */
import { expect, test } from 'bun:test'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'

const SRC = join(import.meta.dir, '..', '..', 'src')
const HEAVY = ['@modelcontextprotocol/sdk', 'zod', 'age-encryption']
const transpiler = new Bun.Transpiler({ loader: 'ts' })

/** Every package a file under src/ pulls in statically, with the chain of files that leads to it. */
function staticPackages(entry: string): Map<string, string[]> {
  const packages = new Map<string, string[]>()
  const seen = new Set<string>()
  const visit = (file: string, chain: string[]) => {
    if (seen.has(file)) return
    seen.add(file)
    const code = readFileSync(file, 'utf8').replace(/^#!.*\n/, '') // the scanner refuses a shebang
    for (const imp of transpiler.scanImports(code)) {
      if (imp.kind !== 'import-statement') continue
      if (!imp.path.startsWith('.')) {
        if (!packages.has(imp.path)) packages.set(imp.path, [...chain, file])
        continue
      }
      const base = resolve(dirname(file), imp.path)
      const target = [`${base}.ts`, join(base, 'index.ts'), base].find((p) => existsSync(p) && p.endsWith('.ts'))
      if (target) visit(target, [...chain, file])
    }
  }
  visit(join(SRC, entry), [])
  return packages
}

test('no command loads the MCP SDK, zod or age before it runs', () => {
  const packages = staticPackages('main.ts')
  expect(packages.size).toBeGreaterThan(3) // the walk found the graph (citty, hono, valibot …)
  const heavy = [...packages.entries()]
    .filter(([name]) => HEAVY.some((h) => name === h || name.startsWith(`${h}/`)))
    .map(([name, chain]) => `${name} via ${chain.map((f) => f.slice(SRC.length + 1)).join(' → ')}`)
  expect(heavy).toEqual([])
})

test('the guard sees a heavy package where one is imported statically', () => {
  expect([...staticPackages(join('mcp', 'tools.ts')).keys()]).toEqual(expect.arrayContaining(['@modelcontextprotocol/sdk/server/mcp.js', 'zod']))
})
