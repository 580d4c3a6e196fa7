import { expect, test } from 'bun:test'
import { NonceCache } from '../../src/identity'

const T0 = 1_000_000

test('a key is fresh once within the TTL and again after it', () => {
  const cache = new NonceCache({ ttlMs: 600_000 })
  expect(cache.checkAndRecord('a', T0)).toBe(true)
  expect(cache.checkAndRecord('a', T0 + 599_999)).toBe(false)
  expect(cache.checkAndRecord('b', T0 + 1)).toBe(true)
  expect(cache.checkAndRecord('a', T0 + 600_000)).toBe(true)
})

test('expired entries are evicted, so memory follows the window', () => {
  const cache = new NonceCache({ ttlMs: 1000 })
  for (let i = 0; i < 100; i++) cache.checkAndRecord(`k${i}`, T0)
  expect(cache.size).toBe(100)
  cache.checkAndRecord('late', T0 + 1000)
  expect(cache.size).toBe(1)
})

test('size is capped, evicting the oldest', () => {
  const cache = new NonceCache({ ttlMs: 600_000, max: 3 })
  for (const k of ['a', 'b', 'c', 'd']) expect(cache.checkAndRecord(k, T0)).toBe(true)
  expect(cache.size).toBe(3)
  expect(cache.checkAndRecord('d', T0)).toBe(false)
  expect(cache.checkAndRecord('b', T0)).toBe(false)
  expect(cache.checkAndRecord('a', T0)).toBe(true) // evicted, so no longer remembered
})
