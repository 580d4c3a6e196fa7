/** Stores on real files in a temp dir, with a FakeClock; call cleanup() in afterEach. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { FakeClock } from '../../src/lib/clock'
import { openStore, type OpenStoreOptions, type Store } from '../../src/store'

export const TEST_PREFIXES = ['public:', 'decision:']
export const PEER_A = '6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f'
export const PEER_B = '0a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3'

export interface TempStores {
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
    cleanup() {
      for (const s of opened) s.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** A full wire entry as a peer would serve it. */
export function wire(id: string, label: string, content: string, at = '2026-05-01T00:00:00.000Z') {
  return { id, label, content, created_at: at, updated_at: at }
}
