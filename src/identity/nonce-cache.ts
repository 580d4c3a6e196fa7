/**
 * Remembers request nonces for the replay window. Memory is bounded: expired entries are
 * evicted from the front (insertion order is expiry order while time moves forward), and past
 * `max` entries the oldest go first. Only requests with a valid MAC reach it, so only a current
 * peer can fill it.
 */
export const NONCE_TTL_MS = 600_000
export const NONCE_CACHE_MAX = 200_000

export class NonceCache {
  readonly #ttlMs: number
  readonly #max: number
  // key → expiry (ms since epoch); Map keeps insertion order.
  readonly #seen = new Map<string, number>()

  constructor(opts: { ttlMs?: number; max?: number } = {}) {
    this.#ttlMs = opts.ttlMs ?? NONCE_TTL_MS
    this.#max = Math.max(1, opts.max ?? NONCE_CACHE_MAX)
  }

  get size(): number {
    return this.#seen.size
  }

  /** True when `key` was not seen within the TTL (and records it now); false for a replay. */
  checkAndRecord(key: string, nowMs: number): boolean {
    this.#evictExpired(nowMs)
    const expiry = this.#seen.get(key)
    if (expiry !== undefined && expiry > nowMs) return false
    // Re-insert so the entry moves to the back of the eviction order.
    this.#seen.delete(key)
    this.#seen.set(key, nowMs + this.#ttlMs)
    while (this.#seen.size > this.#max) {
      const oldest = this.#seen.keys().next()
      if (oldest.done) break
      this.#seen.delete(oldest.value)
    }
    return true
  }

  #evictExpired(nowMs: number): void {
    for (const [key, expiry] of this.#seen) {
      if (expiry > nowMs) break
      this.#seen.delete(key)
    }
  }
}
