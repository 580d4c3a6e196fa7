/**
 * The wire's literals are spelled once, in src/protocol: a route, header, content type, salt or
 * id pattern typed again elsewhere in src/ is how the two sides of a message drift apart.
 */
import { expect, test } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'

const SRC = join(import.meta.dir, '../../src')
// Quoted literals only: comments may name a route.
const CONTRACT_LITERALS = [
  /['"`]\/peer\/sync['"`]/,
  /['"`]\/healthz['"`]/,
  /['"`]\/api\/(rendezvous|peers\/register|peers\/lookup)/,
  /['"`]mzm-(signature|peer-key|seal-v1|pair-v1|rdv-v1|rdv1)['"`]/,
  /application\/vnd\.mzm\.sealed/,
  /\[0-9a-f\]\{8\}-\[0-9a-f\]\{4\}/,
]

function* sourceFiles(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) yield* sourceFiles(p)
    else if (e.name.endsWith('.ts')) yield p
  }
}

test('no contract literal appears outside src/protocol', () => {
  const found: string[] = []
  for (const file of sourceFiles(SRC)) {
    const rel = relative(SRC, file)
    if (rel.startsWith('protocol/')) continue
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        const code = line.replace(/\/\/.*$/, '').trim()
        if (code.startsWith('*') || code.startsWith('/*')) return // comments may name a route or a salt
        for (const re of CONTRACT_LITERALS) if (re.test(code)) found.push(`src/${rel}:${i + 1}: ${line.trim()}`)
      })
  }
  expect(found).toEqual([])
})
