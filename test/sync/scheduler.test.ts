/** The pull schedule's rules, one by one, as pure functions (src/sync/scheduler.ts). */
import { describe, expect, test } from 'bun:test'
import { MINUTE_MS, SECOND_MS } from '../../src/lib/clock'
import {
  BACKOFF_BASE_MS,
  BUSY_RETRIES,
  BUSY_RETRY_MS,
  MAX_CONCURRENT_PULLS,
  MAX_PAGES_PER_PULL,
  PENDING_RETRY_MS,
  SYNC_JITTER_FRACTION,
} from '../../src/sync/constants'
import { backoffMs, liveWaitS, nextDue, pageStep, type PlanPeer, planStarts, sleepMs } from '../../src/sync/scheduler'

const NOW = 1_000_000
const INTERVAL = 5 * MINUTE_MS

describe('nextDue', () => {
  test('after a failure: 5 s, doubling per failure in a row, capped at the interval', () => {
    const waits = [1, 2, 3, 4, 5, 6, 7, 8].map(
      (failures) => nextDue({ outcome: { kind: 'failed', failures }, now: NOW, intervalMs: INTERVAL, random: 0.5 }) - NOW,
    )
    expect(BACKOFF_BASE_MS).toBe(5 * SECOND_MS)
    expect(waits).toEqual([5_000, 10_000, 20_000, 40_000, 80_000, 160_000, INTERVAL, INTERVAL])
    // A short interval caps early; months of failures never overflow.
    expect(backoffMs(3, 12 * SECOND_MS)).toBe(12 * SECOND_MS)
    expect(backoffMs(100_000, INTERVAL)).toBe(INTERVAL)
    expect(backoffMs(0, INTERVAL)).toBe(BACKOFF_BASE_MS)
  })

  test("after a 429 (the peer's door busy): about a second, spread at random, BUSY_RETRIES times in a row; then the ordinary backoff", () => {
    const at = (failures: number, random: number) =>
      nextDue({ outcome: { kind: 'failed', failures, busy: true }, now: NOW, intervalMs: INTERVAL, random }) - NOW
    expect(BUSY_RETRY_MS).toBe(SECOND_MS)
    expect(BUSY_RETRIES).toBe(3)
    expect([at(1, 0), at(2, 0.5), at(3, 0.999)]).toEqual([500, 1_000, 1_499])
    expect(at(4, 0.5)).toBe(backoffMs(4, INTERVAL))
  })

  test('after a success: one interval, brought forward by at most the jitter fraction', () => {
    const at = (random: number) => nextDue({ outcome: { kind: 'ok' }, now: NOW, intervalMs: INTERVAL, random }) - NOW
    expect(at(0)).toBe(INTERVAL)
    expect(at(0.5)).toBe(INTERVAL - INTERVAL * SYNC_JITTER_FRACTION * 0.5)
    const lowest = at(0.999999)
    expect(lowest).toBeGreaterThanOrEqual(INTERVAL * (1 - SYNC_JITTER_FRACTION))
    expect(lowest).toBeLessThan(INTERVAL)
    for (let i = 0; i < 1000; i++) {
      const w = at(Math.random())
      expect(w).toBeGreaterThanOrEqual(INTERVAL * (1 - SYNC_JITTER_FRACTION))
      expect(w).toBeLessThanOrEqual(INTERVAL)
    }
    // Skipped peers (paused, revoked, removed) follow the same schedule.
    expect(nextDue({ outcome: { kind: 'skipped' }, now: NOW, intervalMs: INTERVAL, random: 0 }) - NOW).toBe(INTERVAL)
  })

  test('a peer with no URL yet is looked up again after PENDING_RETRY_MS, never later than the interval', () => {
    expect(PENDING_RETRY_MS).toBe(60_000) // pinned as a number: PENDING_RETRY_MS is defined as MINUTE_MS
    expect(nextDue({ outcome: { kind: 'pending' }, now: NOW, intervalMs: INTERVAL, random: 0.9 }) - NOW).toBe(PENDING_RETRY_MS)
    expect(nextDue({ outcome: { kind: 'pending' }, now: NOW, intervalMs: 20 * SECOND_MS, random: 0.9 }) - NOW).toBe(20 * SECOND_MS)
  })
})

describe('planStarts: the concurrency limit', () => {
  const peer = (id: string, over: Partial<PlanPeer> = {}) => ({ id, dueAt: 0, liveReady: false, inFlight: false, ...over })
  const plan = (peers: ReturnType<typeof peer>[], free = MAX_CONCURRENT_PULLS) => {
    const { start, nextDue } = planStarts(peers, (p) => p, free, NOW)
    return { start: start.map((p) => p.id), nextDue }
  }
  const ids = Array.from({ length: 20 }, (_, i) => `p${i}`)

  test('starts due peers in order, never more than the free slots; one left waiting makes the next plan due now', () => {
    expect(MAX_CONCURRENT_PULLS).toBe(8)
    expect(plan(ids.map((id) => peer(id)))).toEqual({ start: ids.slice(0, 8), nextDue: NOW })
    expect(
      plan(
        ids.map((id) => peer(id)),
        5,
      ).start,
    ).toEqual(ids.slice(0, 5))
    expect(
      plan(
        ids.map((id) => peer(id)),
        0,
      ),
    ).toEqual({ start: [], nextDue: NOW })
    expect(plan(ids.slice(0, 3).map((id) => peer(id)))).toEqual({ start: ['p0', 'p1', 'p2'], nextDue: Number.POSITIVE_INFINITY })
  })

  test('skips peers not yet due (the soonest is the next due) and peers already being pulled', () => {
    const peers = [
      peer('p0', { dueAt: NOW + 7_000 }),
      peer('p1', { dueAt: NOW }),
      peer('p2', { dueAt: NOW - 5, inFlight: true }),
      peer('p3', { dueAt: NOW + 3_000 }),
      peer('p4'),
    ]
    expect(plan(peers)).toEqual({ start: ['p1', 'p4'], nextDue: NOW + 3_000 })
  })

  test('due long-polls all start and take no slot', () => {
    const live = ids.map((id) => peer(id, { liveReady: true }))
    expect(plan([...live, peer('x'), peer('y')], 1)).toEqual({ start: [...ids, 'x'], nextDue: NOW })
  })
})

describe('sleepMs', () => {
  test('sleepMs: until the soonest due peer, at most an interval, at least the floor', () => {
    expect(sleepMs([], NOW, INTERVAL)).toBe(INTERVAL)
    expect(sleepMs([NOW + 7_000, NOW + 30_000], NOW, INTERVAL)).toBe(7_000)
    expect(sleepMs([NOW - 50_000], NOW, INTERVAL)).toBe(1_000)
    expect(sleepMs([NOW + 10 * INTERVAL], NOW, INTERVAL)).toBe(INTERVAL)
  })
})

describe('pageStep', () => {
  test('more=false ends the pull; more=true with a moved cursor asks for the next page', () => {
    expect(pageStep({ more: false, cursor: '10' }, '10', 1)).toBe('done')
    expect(pageStep({ more: true, cursor: '11' }, '10', 1)).toBe('next')
    expect(pageStep({ more: true, cursor: '1' }, null, 1)).toBe('next')
  })

  test('more=true without moving the cursor is a stuck peer', () => {
    expect(pageStep({ more: true, cursor: '10' }, '10', 5)).toBe('stuck')
  })

  test('the page cap: the rest comes at the next pull', () => {
    expect(MAX_PAGES_PER_PULL).toBe(2000)
    expect(pageStep({ more: true, cursor: '2000' }, '1999', MAX_PAGES_PER_PULL - 1)).toBe('next')
    expect(pageStep({ more: true, cursor: '2001' }, '2000', MAX_PAGES_PER_PULL)).toBe('page_cap')
    expect(pageStep({ more: false, cursor: '2001' }, '2000', MAX_PAGES_PER_PULL)).toBe('done')
  })
})

describe('liveWaitS', () => {
  const draws = Array.from({ length: 1000 }, (_, i) => i / 1000).concat([1 - Number.EPSILON])

  test('at the 50 s cap: a whole number of seconds in 45..50, every one of them drawn', () => {
    const waits = new Set(draws.map((r) => liveWaitS(50, r)))
    expect([...waits].sort((a, b) => a - b)).toEqual([45, 46, 47, 48, 49, 50])
  })

  test('a short wait (a proxy cap) loses at most a fifth of itself, and never goes under 1 s', () => {
    for (const max of [1, 2, 5, 10, 20, 29]) {
      for (const r of draws) {
        const w = liveWaitS(max, r)
        expect(Number.isInteger(w)).toBe(true)
        expect(w).toBeGreaterThanOrEqual(Math.max(1, Math.ceil(max * 0.8)))
        expect(w).toBeLessThanOrEqual(max)
      }
    }
    expect(liveWaitS(5, 0.999)).toBe(5)
    expect(liveWaitS(29, 0.999)).toBe(24)
  })
})
