/**
 * The bounded, rate-limited list of pods that tried to pull from us without being peers: their
 * ids are attacker-controlled, so memory and log lines stay bounded whatever arrives.
 */
import { describe, expect, test } from 'bun:test'
import { HOUR_MS, MINUTE_MS } from '../../src/lib/clock'
import { UNKNOWN_CALLERS_MAX, UnknownCallers } from '../../src/http/unknown-callers'

describe('UnknownCallers', () => {
  const id = (n: number) => `${n.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`

  test('logs an id at most once an hour, counts every try, most recent first', () => {
    const u = new UnknownCallers()
    const t0 = Date.parse('2026-05-26T10:00:00Z')
    expect(u.note(id(1), t0)).toBe(true)
    expect(u.note(id(1), t0 + MINUTE_MS)).toBe(false)
    expect(u.note(id(2), t0 + 2 * MINUTE_MS)).toBe(true)
    expect(u.note(id(1), t0 + HOUR_MS)).toBe(true)
    expect(u.list()).toEqual([
      { id: '00000001', first_seen: '2026-05-26T10:00:00.000Z', last_seen: '2026-05-26T11:00:00.000Z', count: 3 },
      { id: '00000002', first_seen: '2026-05-26T10:02:00.000Z', last_seen: '2026-05-26T10:02:00.000Z', count: 1 },
    ])
    expect(u.list((x) => x === id(1)).map((c) => c.id)).toEqual(['00000002'])
  })

  test('a flood of made-up ids: memory bounded, log lines bounded per hour, garbage ids ignored', () => {
    const u = new UnknownCallers()
    const t0 = Date.parse('2026-05-26T10:00:00Z')
    let logged = 0
    for (let i = 0; i < 10_000; i++) if (u.note(id(i), t0 + i)) logged++
    expect(u.list()).toHaveLength(UNKNOWN_CALLERS_MAX)
    expect(u.list()[0]!.id).toBe(id(9999).slice(0, 8))
    expect(logged).toBe(20)
    expect(u.note('../../etc/passwd', t0)).toBe(false)
    expect(u.note('not-a-uuid', t0)).toBe(false)
    expect(u.list()).toHaveLength(UNKNOWN_CALLERS_MAX)
  })
})
