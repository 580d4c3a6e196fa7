/**
 * ScopeMatchers: one pod's compiled scopes under one byte budget. Kept scopes are reused, the
 * least recently used go first, a held scope keeps its globs (only its DFA can be taken back), a
 * DFA that finds no room stops growing and the answers stay right, and two instances share
 * nothing.
 */
import { describe, expect, test } from 'bun:test'
import { directMatcher, ScopeMatchers } from '../../src/scope'

/** A scope whose DFA grows a state per distinct digit tail: numbered labels teach it many. */
const remembering = (d: number) => [`*${d}???????`, `*${(d + 1) % 10}??????`]
const numbered = (n: number) => Array.from({ length: n }, (_, i) => `public:n${String(i * 7919).padStart(8, '0')}`)

describe('ScopeMatchers', () => {
  test('a scope is compiled once and kept: the same globs give the same answers without new bytes', () => {
    const m = new ScopeMatchers()
    const a = m.matcher(['public:*', 'team:?'])
    expect(a('team:a')).toBe(true)
    expect(a('team:ab')).toBe(false)
    const bytes = m.bytes
    expect(m.size).toBe(1)
    const again = m.matcher(['public:*', 'team:?'])
    expect(m.bytes).toBe(bytes) // nothing compiled again
    expect(again('team:a')).toBe(true) // the kept DFA already knows this label: no new state either
    expect(m.bytes).toBe(bytes)
    expect(again('public:x')).toBe(true)
    expect(m.size).toBe(1)
  })

  test('the byte budget holds: distinct scopes past it evict the least recently used', () => {
    const m = new ScopeMatchers(256 * 1024)
    const labels = numbered(400)
    for (let d = 0; d < 100; d++) {
      const match = m.matcher([...remembering(d % 10), `public:scope${d}*`])
      for (const l of labels) match(l)
      expect(m.bytes).toBeLessThanOrEqual(256 * 1024)
    }
    expect(m.size).toBeLessThan(100)
    expect(m.has([...remembering(0), 'public:scope0*'])).toBe(false)
    expect(m.has([...remembering(99 % 10), 'public:scope99*'])).toBe(true)
  })

  test('a DFA refused room answers through the globs, right for every label', () => {
    // A budget that fits the globs but not the DFA's first tables.
    const m = new ScopeMatchers(8 * 1024)
    const scope = [...remembering(3), 'public:n0*']
    const match = m.matcher(scope)
    const direct = directMatcher(scope)
    for (const l of numbered(2000)) expect(match(l)).toBe(direct(l))
    expect(m.bytes).toBeLessThanOrEqual(8 * 1024)
  })

  test('held scopes keep their globs whatever else comes; released, they can be evicted', () => {
    const m = new ScopeMatchers(64 * 1024)
    const held = m.hold(['public:held*'])
    const labels = numbered(300)
    for (let d = 0; d < 100; d++) {
      const match = m.matcher([...remembering(d % 10), `public:other${d}*`])
      for (const l of labels) match(l)
    }
    expect(m.has(['public:held*'])).toBe(true)
    expect(m.has([...remembering(0), 'public:other0*'])).toBe(false)
    expect(held.matches('public:held1')).toBe(true)
    expect(held.matches('public:other1')).toBe(false)
    held.release()
    held.release() // twice is harmless
    for (let d = 100; d < 200; d++) m.matcher([...remembering(d % 10), `public:other${d}*`])(labels[0]!)
    expect(m.has(['public:held*'])).toBe(false)
    expect(m.bytes).toBeLessThanOrEqual(64 * 1024)
  })

  test('matching a held scope never grows anything: a commit is matched, not compiled', () => {
    const m = new ScopeMatchers()
    const held = m.hold(remembering(4))
    const before = m.bytes
    for (const l of numbered(2000)) held.matches(l)
    expect(m.bytes).toBe(before)
  })

  test('two instances share nothing (two pods in one process)', () => {
    const a = new ScopeMatchers()
    const b = new ScopeMatchers()
    a.matcher(['public:*'])('public:x')
    expect(a.size).toBe(1)
    expect(b.size).toBe(0)
    expect(b.bytes).toBe(0)
  })

  test('stars-only and empty globs, duplicates and an empty scope', () => {
    const m = new ScopeMatchers()
    expect(m.matcher(['**'])('anything')).toBe(true)
    expect(m.hold(['*']).matches('')).toBe(true)
    expect(m.matcher([''])('')).toBe(true)
    expect(m.matcher([''])('a')).toBe(false)
    expect(m.matcher([])('a')).toBe(false)
    expect(m.matchesAny('abc', ['a?c', 'a?c', 'x*'])).toBe(true)
  })
})
