/**
 * Token buckets keyed by a string: each key may spend `capacity` tokens in a burst, refilled at
 * `capacity` per `windowMs`. The rendezvous uses one per source address over *failed* requests
 * (30 a minute) and one per registration token over every registration (10 a second). The map
 * of keys is bounded; past `maxKeys` the least recently spending key is forgotten, which costs at
 * most one fresh burst for it.
 */
import type { Clock } from '../lib/clock'
import { MINUTE_MS } from '../lib/clock'
import { FAILURES_PER_MINUTE, MAX_LIMITER_SOURCES } from './constants'

export interface RateLimiter {
  /** 0 when `key` may spend now; otherwise how long until its next token. */
  retryAfterMs(key: string): number
  /** Spends one token; true when this spend emptied the bucket (log once). */
  spend(key: string): boolean
  /** Keys currently remembered. */
  readonly size: number
}

interface Bucket {
  tokens: number
  at: number
}

export function createRateLimiter(opts: { clock: Clock; capacity?: number; windowMs?: number; maxKeys?: number }): RateLimiter {
  const capacity = opts.capacity ?? FAILURES_PER_MINUTE
  const perMs = capacity / (opts.windowMs ?? MINUTE_MS)
  const maxKeys = opts.maxKeys ?? MAX_LIMITER_SOURCES
  const buckets = new Map<string, Bucket>()

  const refill = (b: Bucket, now: number) => {
    b.tokens = Math.min(capacity, b.tokens + Math.max(0, now - b.at) * perMs)
    b.at = now
  }

  return {
    retryAfterMs(key) {
      const b = buckets.get(key)
      if (!b) return 0
      refill(b, opts.clock.now())
      return b.tokens >= 1 ? 0 : Math.ceil((1 - b.tokens) / perMs)
    },
    spend(key) {
      const now = opts.clock.now()
      const b = buckets.get(key) ?? { tokens: capacity, at: now }
      refill(b, now)
      const hadToken = b.tokens >= 1
      b.tokens = Math.max(0, b.tokens - 1)
      // Re-insert so Map order is least-recently-spending first, then trim from the front.
      buckets.delete(key)
      buckets.set(key, b)
      while (buckets.size > maxKeys) buckets.delete(buckets.keys().next().value!)
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
  return (
    groups
      .slice(0, 4)
      .map((g) => g.replace(/^0+(?=.)/, ''))
      .join(':') + '::/64'
  )
}
