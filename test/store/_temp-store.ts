/**
 * Stores on real files in a temp dir, with a FakeClock. In one test: `using t = tempStores()`
 * (closed and removed when the scope ends). For every test of a file or describe:
 * `storeEachTest((fresh) => ({ t, store } = fresh))`, or tempStoresEachTest for the dir alone.
 */
import { afterEach, beforeEach } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { FakeClock } from '../../src/lib/clock'
import { openStore, type OpenStoreOptions, type Store } from '../../src/store'

export const TEST_PREFIXES = ['public:', 'decision:']
export const PEER_A = '6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f'
export const PEER_B = '0a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3'

export interface TempStores extends Disposable {
  dir: string
  path: string
  vaultKey: Uint8Array
  clock: FakeClock
  open(over?: Partial<OpenStoreOptions>): Store
  cleanup(): void
}

export function tempStores(): TempStores {
  const dir = mkdtempSync(join(tmpdir(), 'mzm-store-'))
  const path = join(dir, 'pod.db')
  const vaultKey = new Uint8Array(randomBytes(32))
  const clock = new FakeClock()
  const opened: Store[] = []
  const cleanup = () => {
    for (const s of opened) s.close()
    rmSync(dir, { recursive: true, force: true })
  }
  return {
    dir,
    path,
    vaultKey,
    clock,
    open(over = {}) {
      // Not syncing each commit: these tests fill stores with thousands of writes and are about what is
      // stored, not when it reaches the platter (test/adversary/durable-writes.test.ts is).
      const s = openStore({ path, vaultKey, publicPrefixes: TEST_PREFIXES, maxContentBytes: 4096, clock, durable: false, ...over })
      opened.push(s)
      return s
    },
    cleanup,
    [Symbol.dispose]: cleanup,
  }
}

/** New temp stores before each test of the file (or describe) that calls this; closed and removed after it. */
export function tempStoresEachTest(take: (t: TempStores) => void): void {
  let current: TempStores | null = null
  beforeEach(() => {
    current = tempStores()
    take(current)
  })
  afterEach(() => {
    current?.cleanup()
    current = null
  })
}

/** As tempStoresEachTest, with a store opened in them (default options): `storeEachTest((fresh) => ({ t, store } = fresh))`. */
export function storeEachTest(take: (fresh: { t: TempStores; store: Store }) => void): void {
  tempStoresEachTest((t) => take({ t, store: t.open() }))
}

/** A full wire entry as a peer would serve it. */
export function wire(id: string, label: string, content: string, at = '2026-05-01T00:00:00.000Z') {
  return { id, label, content, created_at: at, updated_at: at }
}
