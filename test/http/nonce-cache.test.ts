import { describe, expect, test } from 'bun:test'
import { mkdirSync, readFileSync, rmdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { NONCE_TTL_MS, NonceCache } from '../../src/http/nonce-cache'
import { useTempDirs } from '../identity/_temp-home'

const T0 = 1_000_000

test('a nonce is fresh once within the TTL and again after it', () => {
  const cache = new NonceCache({ ttlMs: 600_000 })
  expect(cache.checkAndRecord('p', 'a', T0)).toBe('fresh')
  expect(cache.checkAndRecord('p', 'a', T0 + 599_999)).toBe('replay')
  expect(cache.checkAndRecord('p', 'b', T0 + 1)).toBe('fresh')
  expect(cache.checkAndRecord('q', 'a', T0 + 2)).toBe('fresh') // nonces are per peer
  expect(cache.checkAndRecord('p', 'a', T0 + 600_000)).toBe('fresh')
})

test('expired entries are evicted, so memory follows the window', () => {
  const cache = new NonceCache({ ttlMs: 1000 })
  for (let i = 0; i < 100; i++) cache.checkAndRecord('p', `k${i}`, T0)
  for (let i = 0; i < 50; i++) cache.checkAndRecord('q', `k${i}`, T0)
  expect(cache.size).toBe(150)
  cache.checkAndRecord('p', 'late', T0 + 1000)
  expect(cache.size).toBe(51)
})

// Regression: a full cache used to evict the oldest nonces while still inside the replay window,
// so one peer flooding its own valid requests made another peer's captured request replayable.
test("one peer's flood can neither evict another peer's nonces nor its own", () => {
  const cache = new NonceCache({ ttlMs: 600_000, perPeerMax: 100, totalMax: 1000 })
  expect(cache.checkAndRecord('victim', 'captured', T0)).toBe('fresh')
  for (let i = 0; i < 100; i++) expect(cache.checkAndRecord('flooder', `n${i}`, T0 + i)).toBe('fresh')
  // Past its own cap the flooder is refused instead of evicting anything.
  expect(cache.checkAndRecord('flooder', 'one-more', T0 + 200)).toBe('full')
  expect(cache.checkAndRecord('flooder', 'n0', T0 + 201)).toBe('replay')
  expect(cache.checkAndRecord('victim', 'captured', T0 + 40_000)).toBe('replay')
  // Once the window has passed, the flooder may go on.
  expect(cache.checkAndRecord('flooder', 'later', T0 + 600_000 + 100)).toBe('fresh')
})

test('the total is capped too: refuse rather than forget', () => {
  const cache = new NonceCache({ ttlMs: 600_000, perPeerMax: 10, totalMax: 25 })
  for (let p = 0; p < 3; p++) for (let i = 0; i < 10; i++) cache.checkAndRecord(`p${p}`, `n${i}`, T0)
  expect(cache.size).toBe(25)
  expect(cache.checkAndRecord('p9', 'x', T0)).toBe('full')
  expect(cache.checkAndRecord('p0', 'n0', T0)).toBe('replay')
})

describe('the journal (replay across restarts)', () => {
  const tempDir = useTempDirs()
  const PEER = '6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f'
  const OTHER = '0a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3'

  test('a nonce recorded before close is a replay after reopening; others stay fresh', () => {
    const path = join(tempDir(), 'nonces.journal')
    const first = NonceCache.open(path, T0)
    expect(first.checkAndRecord(PEER, 'AAAAAAAAAAAAAAAAAAAAAA', T0)).toBe('fresh')
    expect(first.checkAndRecord(OTHER, 'BBBBBBBBBBBBBBBBBBBBBB', T0 + 1)).toBe('fresh')
    first.close()
    expect(statSync(path).mode & 0o777).toBe(0o600)

    const second = NonceCache.open(path, T0 + 1000)
    expect(second.size).toBe(2)
    expect(second.checkAndRecord(PEER, 'AAAAAAAAAAAAAAAAAAAAAA', T0 + 1000)).toBe('replay')
    expect(second.checkAndRecord(OTHER, 'BBBBBBBBBBBBBBBBBBBBBB', T0 + 1000)).toBe('replay')
    expect(second.checkAndRecord(OTHER, 'AAAAAAAAAAAAAAAAAAAAAA', T0 + 1000)).toBe('fresh')
    second.close()
  })

  test('without close (a crash), what was flushed (before any answer) is still there', () => {
    const path = join(tempDir(), 'nonces.journal')
    const crashed = NonceCache.open(path, T0)
    crashed.checkAndRecord(PEER, 'n1', T0)
    crashed.flush()
    const after = NonceCache.open(path, T0 + 5)
    expect(after.checkAndRecord(PEER, 'n1', T0 + 5)).toBe('replay')
    crashed.close()
    after.close()
  })

  test('the nonces of one turn go to the file in one write: at flush(), or at the end of the turn', async () => {
    const path = join(tempDir(), 'nonces.journal')
    const c = NonceCache.open(path, T0)
    for (const n of ['n1', 'n2', 'n3']) c.checkAndRecord(PEER, n, T0)
    expect(readFileSync(path, 'utf8')).toBe('')
    c.flush()
    expect(readFileSync(path, 'utf8')).toBe(['n1', 'n2', 'n3'].map((n) => `${T0 + NONCE_TTL_MS} ${PEER} ${n}\n`).join(''))
    c.checkAndRecord(PEER, 'n4', T0)
    await new Promise((r) => setImmediate(r))
    expect(readFileSync(path, 'utf8')).toEndWith(`${PEER} n4\n`)
    c.close()
  })

  test('a write that fails keeps its lines waiting and fails the flush; the next flush writes them', () => {
    const path = join(tempDir(), 'nonces.journal')
    const c = NonceCache.open(path, T0)
    c.checkAndRecord(PEER, 'n1', T0)
    // A directory where the journal was: opening it to append fails, even for root.
    rmSync(path)
    mkdirSync(path)
    expect(() => c.flush()).toThrow()
    rmdirSync(path)
    c.flush()
    const after = NonceCache.open(path, T0 + 5)
    expect(after.checkAndRecord(PEER, 'n1', T0 + 5)).toBe('replay')
    c.close()
    after.close()
  })

  test('close() writes what waits', () => {
    const path = join(tempDir(), 'nonces.journal')
    const c = NonceCache.open(path, T0)
    c.checkAndRecord(PEER, 'n1', T0)
    c.close()
    expect(NonceCache.open(path, T0 + 5).checkAndRecord(PEER, 'n1', T0 + 5)).toBe('replay')
  })

  test('expired nonces are not loaded and are dropped from the file', () => {
    const path = join(tempDir(), 'nonces.journal')
    const c = NonceCache.open(path, T0, { ttlMs: 1000 })
    c.checkAndRecord(PEER, 'old', T0)
    c.checkAndRecord(PEER, 'new', T0 + 900)
    c.close()
    const later = NonceCache.open(path, T0 + 1500, { ttlMs: 1000 })
    expect(later.size).toBe(1)
    expect(readFileSync(path, 'utf8')).toBe(`${T0 + 1900} ${PEER} new\n`)
    expect(later.checkAndRecord(PEER, 'old', T0 + 1500)).toBe('fresh')
    later.close()
  })

  test('a torn last line and foreign lines are skipped', () => {
    const path = join(tempDir(), 'nonces.journal')
    writeFileSync(path, `${T0 + 600_000} ${PEER} kept\nnot a line\n${T0 + 600_000} ${PEER} to`, { mode: 0o600 })
    const c = NonceCache.open(path, T0)
    expect(c.size).toBe(1)
    expect(c.checkAndRecord(PEER, 'kept', T0)).toBe('replay')
    c.close()
  })

  test('the journal is compacted as it grows, keeping every live nonce', () => {
    const path = join(tempDir(), 'nonces.journal')
    const c = NonceCache.open(path, T0, { ttlMs: 100 })
    for (let i = 0; i < 25_000; i++) c.checkAndRecord(PEER, `n${i}`, T0 + i) // ~100 live at any time
    c.close()
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n')
    expect(lines.length).toBeLessThan(11_000)
    const reopened = NonceCache.open(path, T0 + 24_999)
    expect(reopened.checkAndRecord(PEER, 'n24999', T0 + 24_999)).toBe('replay')
    expect(reopened.checkAndRecord(PEER, 'n24950', T0 + 24_999)).toBe('replay')
    reopened.close()
  })

  test('a symlink in place of the journal is refused, not followed', () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'elsewhere'), '')
    symlinkSync(join(dir, 'elsewhere'), join(dir, 'nonces.journal'))
    expect(() => NonceCache.open(join(dir, 'nonces.journal'), T0)).toThrow()
  })
})
