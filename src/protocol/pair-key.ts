/**
 * The per-relationship pair key (32 bytes) as the protocol uses it: a node:crypto secret
 * KeyObject (opaque to logs and JSON) for HMAC-SHA256, plus the seal keys derived from it
 * (seal.ts), each derived once and kept with the key: whoever holds the pair key (the pod's
 * identity caches one per relationship) holds them, and nothing is kept beside it.
 */
import { createSecretKey, type KeyObject } from 'node:crypto'
import { deriveSealKeys, type SealKeys } from './seal'

export class PairKey {
  /** req_key and resp_key per direction (`caller|callee`), derived on first use. */
  private readonly seal = new Map<string, SealKeys>()
  /**
   * The direction asked for last and its keys: a pair key serves one direction in practice (a
   * callee opens its peer's requests, a puller its answers), so most calls build no direction string.
   */
  private last: { callerId: string; calleeId: string; keys: SealKeys } | null = null

  /** The key's bytes, exported on first use; #private, so no log line or JSON shows them. */
  #bytes: Uint8Array | null = null

  constructor(readonly secret: KeyObject) {}

  /** The pair key of these 32 bytes. */
  static fromBytes(bytes: Uint8Array): PairKey {
    return new PairKey(createSecretKey(bytes))
  }

  /** The key's 32 bytes: for an HMAC that takes bytes rather than a KeyObject, and for a thread of this process that needs the key (sync/fetch-worker.ts). */
  bytes(): Uint8Array {
    this.#bytes ??= new Uint8Array(this.secret.export())
    return this.#bytes
  }

  /** req_key and resp_key for requests from `callerId` to `calleeId`. */
  sealKeys(callerId: string, calleeId: string): SealKeys {
    const last = this.last
    if (last !== null && last.callerId === callerId && last.calleeId === calleeId) return last.keys
    const direction = `${callerId}|${calleeId}`
    let keys = this.seal.get(direction)
    if (!keys) {
      keys = deriveSealKeys(this.secret, direction)
      this.seal.set(direction, keys)
    }
    this.last = { callerId, calleeId, keys }
    return keys
  }
}
