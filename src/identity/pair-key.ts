/**
 * The per-relationship pair key (contract "Pair key"):
 *   shared   = X25519(our private key, peer public key)
 *   pair_key = HKDF-SHA256(ikm = shared, salt = "mzm-pair-v1", info = min(idA,idB) + "|" + max(idA,idB), L = 32)
 * Both pods of a pair compute the same bytes; anyone else, even knowing both public keys, cannot.
 */
import { PAIR_SALT, PairKey } from '../protocol'
import { BadInput } from '../lib/errors'
import { importPublicKey } from './keys'
import type { PodId, PublicKey } from './types'

const PAIR_SALT_BYTES = new TextEncoder().encode(PAIR_SALT)
const PAIR_KEY_BITS = 256

export async function derivePairKeyBytes(ourPrivate: CryptoKey, peerPublic: PublicKey, ourId: PodId, peerId: PodId): Promise<Uint8Array> {
  if (ourId === peerId) throw new BadInput('a pod cannot pair with itself')
  // Both sides order the ids the same way, so both derive the same key (ids are ASCII, so
  // string comparison is byte order).
  const [low, high] = ourId < peerId ? [ourId, peerId] : [peerId, ourId]
  return deriveSharedKey(
    ourPrivate,
    peerPublic,
    PAIR_SALT_BYTES,
    `${low}|${high}`,
    'peer public key is not a usable X25519 key; ask the peer for a fresh handshake URL',
  )
}

/**
 * HKDF-SHA256(ikm = X25519(our private key, their public key), salt, info, L = 32): the
 * derivation of the pair key and of the rendezvous proof key. Symmetric: both holders of the
 * two private halves compute the same bytes, nobody else can.
 */
export async function deriveSharedKey(
  ourPrivate: CryptoKey,
  theirPublic: PublicKey,
  salt: Uint8Array,
  info: string,
  unusableMessage = 'public key is not a usable X25519 key',
): Promise<Uint8Array> {
  const theirKey = await importPublicKey(theirPublic)
  let shared: ArrayBuffer
  try {
    shared = await crypto.subtle.deriveBits({ name: 'X25519', public: theirKey }, ourPrivate, PAIR_KEY_BITS)
  } catch (cause) {
    // Web Crypto refuses low-order points (an all-zero shared secret); such a key is unusable.
    throw new BadInput(unusableMessage, [String(cause)])
  }
  const ikm = await crypto.subtle.importKey('raw', shared, 'HKDF', false, ['deriveBits'])
  const bits = await crypto.subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: salt as Uint8Array<ArrayBuffer>, info: new TextEncoder().encode(info) },
    ikm,
    PAIR_KEY_BITS,
  )
  return new Uint8Array(bits)
}

export type { PairKey }

/**
 * The pair key for HMAC-SHA256 signing and verifying. node:crypto's HMAC is synchronous and
 * about five times cheaper per call than Web Crypto's, and it runs on every peer request.
 */
export function importPairKey(bytes: Uint8Array): Promise<PairKey> {
  return Promise.resolve(PairKey.fromBytes(bytes))
}
