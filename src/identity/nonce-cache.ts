/**
 * Remembers request nonces for the replay window, per peer. Memory is bounded without ever
 * forgetting a nonce early: past a peer's cap (or the total cap) new requests are refused
 * (`full`) until old nonces expire. Forgetting instead would let one peer's flood of its own
 * valid requests make another peer's captured request replayable. Only requests with a valid
 * MAC reach the cache, so only a current peer can fill its share.
 */
export const NONCE_TTL_MS = 600_000
/** 20k nonces in 600 s is 33 requests/s sustained; a 100k-memory pull takes 200. */
export const NONCE_PEER_MAX = 20_000
export const NONCE_TOTAL_MAX = 500_000

export type NonceVerdict = 'fresh' | 'replay' | 'full'

export class NonceCache {
  readonly #ttlMs: number
  readonly #perPeerMax: number
  readonly #totalMax: number
  // peer → (nonce → expiry ms). A Map keeps insertion order, which is expiry order.
  readonly #byPeer = new Map<string, Map<string, number>>()
  #total = 0

  constructor(opts: { ttlMs?: number; perPeerMax?: number; totalMax?: number } = {}) {
    this.#ttlMs = opts.ttlMs ?? NONCE_TTL_MS
    this.#perPeerMax = Math.max(1, opts.perPeerMax ?? NONCE_PEER_MAX)
    this.#totalMax = Math.max(1, opts.totalMax ?? NONCE_TOTAL_MAX)
  }

  get size(): number {
    return this.#total
  }

  /** `fresh` (and records it), `replay` when seen within the TTL, `full` when it cannot be remembered. */
  checkAndRecord(peer: string, nonce: string, nowMs: number): NonceVerdict {
    let seen = this.#byPeer.get(peer)
    if (seen) this.#evictExpired(peer, seen, nowMs)
    if (seen?.has(nonce)) return 'replay'
    if (this.#total >= this.#totalMax) {
      for (const [p, s] of this.#byPeer) this.#evictExpired(p, s, nowMs)
      if (this.#total >= this.#totalMax) return 'full'
    }
    if (!seen) this.#byPeer.set(peer, (seen = new Map()))
    if (seen.size >= this.#perPeerMax) return 'full'
    seen.set(nonce, nowMs + this.#ttlMs)
    this.#total++
    return 'fresh'
  }

  #evictExpired(peer: string, seen: Map<string, number>, nowMs: number): void {
    for (const [nonce, expiry] of seen) {
      if (expiry > nowMs) break
      seen.delete(nonce)
      this.#total--
    }
    if (seen.size === 0) this.#byPeer.delete(peer)
  }
}
