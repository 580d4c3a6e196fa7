/**
 * Imports point down (docs: README "Develop"). Each folder of src/ has a floor; a file may import
 * its own folder and folders on lower floors, never one on its own floor or above. And two rules
 * that hold through any chain of imports: store, identity and config reach nothing of http or
 * sync, and http and sync never reach each other (a route that must wake the loop gets a
 * callback from src/pod).
 */
import { describe, expect, test } from 'bun:test'
import { join, relative, sep } from 'node:path'
import { importsOf, reachableFrom, sourceFiles } from './helpers/import-graph'

const SRC = join(import.meta.dir, '..', 'src')

/** Floor of each top-level folder (or file) of src/. A new folder must be given one here. */
const FLOORS: Record<string, number> = {
  lib: 0,
  runtime: 0,
  // The answer shapes name the vocabulary's codes (lib/codes.ts).
  api: 1,
  protocol: 1,
  scope: 1,
  config: 2,
  identity: 3,
  store: 3,
  live: 4,
  sync: 5,
  backup: 5,
  mcp: 5,
  http: 6,
  rendezvous: 7,
  pod: 7,
  cli: 8,
  main: 9,
}

/** The top-level folder of src/ a file lives in ('main' for src/main.ts), or null outside src/. */
function layerOf(file: string): string | null {
  const rel = relative(SRC, file)
  if (rel.startsWith('..')) return null
  return rel.split(sep)[0]!.replace(/\.ts$/, '')
}

const files = sourceFiles(SRC).filter((f) => f.endsWith('.ts'))

describe('floors', () => {
  test('every folder of src/ has a floor', () => {
    const layers = [...new Set(files.map((f) => layerOf(f)!))].sort()
    expect(layers.filter((l) => !(l in FLOORS))).toEqual([])
  })

  test('every import goes to the same folder or a lower floor', () => {
    const upward: string[] = []
    for (const file of files) {
      const from = layerOf(file)!
      for (const target of importsOf(file)) {
        const to = layerOf(target)
        if (to === null || to === from) continue
        if (FLOORS[to]! >= FLOORS[from]!) upward.push(`${relative(SRC, file)} → ${relative(SRC, target)}`)
      }
    }
    expect(upward).toEqual([])
  })
})

describe('through any chain of imports', () => {
  const reachedLayers = (layer: string) => new Set([...reachableFrom(files.filter((f) => layerOf(f) === layer))].map((f) => layerOf(f)))

  for (const low of ['store', 'identity', 'config']) {
    test(`${low} reaches nothing of http or sync`, () => {
      const reached = reachedLayers(low)
      expect({ http: reached.has('http'), sync: reached.has('sync') }).toEqual({ http: false, sync: false })
    })
  }

  test('http and sync never reach each other', () => {
    expect(reachedLayers('http').has('sync')).toBe(false)
    expect(reachedLayers('sync').has('http')).toBe(false)
  })

  test('the check sees a chain: pod reaches both http and sync', () => {
    const reached = reachedLayers('pod')
    expect(reached.has('http') && reached.has('sync')).toBe(true)
  })
})
