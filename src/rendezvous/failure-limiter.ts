/**
 * Per-source token bucket over *failed* requests (bad token, bad input, 404 lookups): each
 * source may fail `perMinute` times in a burst, then one more time per 60/perMinute s. The map
 * of sources is bounded; past `maxSources` the least recently failing source is forgotten, which
 * costs at most one fresh burst for it.
 */
import type { Clock } from '../lib/clock'
import { MINUTE_MS } from '../lib/clock'
import { FAILURES_PER_MINUTE, MAX_LIMITER_SOURCES } from './constants'

export interface FailureLimiter {
  /** 0 when `source` may try now; otherwise how long until its next token. */
  retryAfterMs(source: string): number
  /** Spends one token for a failure; true when this failure emptied the bucket (log once). */
  fail(source: string): boolean
  /** Sources currently remembered. */
  readonly size: number
}

interface Bucket {
  tokens: number
  at: number
}

export function createFailureLimiter(opts: { clock: Clock; perMinute?: number; maxSources?: number }): FailureLimiter {
  const capacity = opts.perMinute ?? FAILURES_PER_MINUTE
  const maxSources = opts.maxSources ?? MAX_LIMITER_SOURCES
  const perMs = capacity / MINUTE_MS
  const buckets = new Map<string, Bucket>()

  const refill = (b: Bucket, now: number) => {
    b.tokens = Math.min(capacity, b.tokens + Math.max(0, now - b.at) * perMs)
    b.at = now
  }

  return {
    retryAfterMs(source) {
      const b = buckets.get(source)
      if (!b) return 0
      refill(b, opts.clock.now())
      return b.tokens >= 1 ? 0 : Math.ceil((1 - b.tokens) / perMs)
    },
    fail(source) {
      const now = opts.clock.now()
      const b = buckets.get(source) ?? { tokens: capacity, at: now }
      refill(b, now)
      const hadToken = b.tokens >= 1
      b.tokens = Math.max(0, b.tokens - 1)
      // Re-insert so Map order is least-recently-failing first, then trim from the front.
      buckets.delete(source)
      buckets.set(source, b)
      while (buckets.size > maxSources) buckets.delete(buckets.keys().next().value!)
      return hadToken && b.tokens < 1
    },
    get size() {
      return buckets.size
    },
  }
}

/**
 * The rate-limit key of an address: IPv4 as is (also when IPv4-mapped), IPv6 by its /64, since
 * one host usually holds a whole /64 and could otherwise rotate through it.
 */
export function sourceKey(address: string): string {
  const a = address.trim().toLowerCase()
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a)
  if (mapped) return mapped[1]!
  if (!a.includes(':')) return a
  const bare = a.replace(/%.*$/, '') // zone id
  const [head = '', tail] = bare.split('::', 2)
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const groups = tail === undefined ? left : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
  return groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':') + '::/64'
}
