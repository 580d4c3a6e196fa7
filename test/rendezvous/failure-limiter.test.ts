import { describe, expect, test } from 'bun:test'
import { FakeClock } from '../../src/lib/clock'
import { createFailureLimiter, sourceKey } from '../../src/rendezvous/failure-limiter'

describe('createFailureLimiter', () => {
  test('allows a burst of perMinute failures, then one per refill interval', () => {
    const clock = new FakeClock()
    const limiter = createFailureLimiter({ clock, perMinute: 30 })
    for (let i = 0; i < 29; i++) expect(limiter.fail('1.2.3.4')).toBe(false)
    expect(limiter.retryAfterMs('1.2.3.4')).toBe(0)
    expect(limiter.fail('1.2.3.4')).toBe(true) // this one emptied the bucket
    expect(limiter.retryAfterMs('1.2.3.4')).toBe(2000)
    expect(limiter.retryAfterMs('5.6.7.8')).toBe(0) // others are not affected
    expect(limiter.fail('1.2.3.4')).toBe(false) // already empty: not a new transition
    clock.advance(2000)
    expect(limiter.retryAfterMs('1.2.3.4')).toBe(0)
  })

  test('a full refill takes a minute', () => {
    const clock = new FakeClock()
    const limiter = createFailureLimiter({ clock, perMinute: 30 })
    for (let i = 0; i < 30; i++) limiter.fail('a')
    clock.advance(60_000)
    for (let i = 0; i < 29; i++) expect(limiter.fail('a')).toBe(false)
    expect(limiter.fail('a')).toBe(true)
  })

  test('remembers at most maxSources, forgetting the least recently failing', () => {
    const clock = new FakeClock()
    const limiter = createFailureLimiter({ clock, perMinute: 1, maxSources: 3 })
    for (const s of ['a', 'b', 'c', 'd', 'e']) limiter.fail(s)
    expect(limiter.size).toBe(3)
    expect(limiter.retryAfterMs('a')).toBe(0) // forgotten
    expect(limiter.retryAfterMs('e')).toBeGreaterThan(0)
  })
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
