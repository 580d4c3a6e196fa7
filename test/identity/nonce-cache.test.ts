import { expect, test } from 'bun:test'
import { NonceCache } from '../../src/identity'

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
