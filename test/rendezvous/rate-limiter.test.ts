import { describe, expect, test } from 'bun:test'
import { FakeClock } from '../../src/lib/clock'
import { createRateLimiter, sourceKey } from '../../src/rendezvous/rate-limiter'

describe('createRateLimiter', () => {
  test('allows a burst of capacity spends, then one per refill interval', () => {
    const clock = new FakeClock()
    const limiter = createRateLimiter({ clock, capacity: 30 })
    for (let i = 0; i < 29; i++) expect(limiter.spend('1.2.3.4')).toBe(false)
    expect(limiter.retryAfterMs('1.2.3.4')).toBe(0)
    expect(limiter.spend('1.2.3.4')).toBe(true) // this one emptied the bucket
    expect(limiter.retryAfterMs('1.2.3.4')).toBe(2000)
    expect(limiter.retryAfterMs('5.6.7.8')).toBe(0) // others are not affected
    expect(limiter.spend('1.2.3.4')).toBe(false) // already empty: not a new transition
    clock.advance(2000)
    expect(limiter.retryAfterMs('1.2.3.4')).toBe(0)
  })

  test('a full refill takes a minute', () => {
    const clock = new FakeClock()
    const limiter = createRateLimiter({ clock, capacity: 30 })
    for (let i = 0; i < 30; i++) limiter.spend('a')
    clock.advance(60_000)
    for (let i = 0; i < 29; i++) expect(limiter.spend('a')).toBe(false)
    expect(limiter.spend('a')).toBe(true)
  })

  test('remembers at most maxKeys, forgetting the least recently spending', () => {
    const clock = new FakeClock()
    const limiter = createRateLimiter({ clock, capacity: 1, maxKeys: 3 })
    for (const s of ['a', 'b', 'c', 'd', 'e']) limiter.spend(s)
    expect(limiter.size).toBe(3)
    expect(limiter.retryAfterMs('a')).toBe(0) // forgotten
    expect(limiter.retryAfterMs('e')).toBeGreaterThan(0)
  })
})

test('a window of one second: 10 a second, refilled continuously', () => {
  const clock = new FakeClock()
  const limiter = createRateLimiter({ clock, capacity: 10, windowMs: 1000 })
  for (let i = 0; i < 10; i++) {
    expect(limiter.retryAfterMs('t')).toBe(0)
    limiter.spend('t')
  }
  expect(limiter.retryAfterMs('t')).toBe(100)
  clock.advance(100)
  expect(limiter.retryAfterMs('t')).toBe(0)
  limiter.spend('t')
  expect(limiter.retryAfterMs('t')).toBe(100)
  clock.advance(1000)
  for (let i = 0; i < 10; i++) {
    expect(limiter.retryAfterMs('t')).toBe(0)
    limiter.spend('t')
  }
  expect(limiter.retryAfterMs('t')).toBeGreaterThan(0)
})

describe('sourceKey', () => {
  test.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::9', '2001:db8:1:2::/64'],
    ['2001:0db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['unknown', 'unknown'],
  ])('%s → %s', (ip, key) => {
    expect(sourceKey(ip)).toBe(key)
  })
})
