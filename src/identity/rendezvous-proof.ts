/**
 * Rendezvous proof of key possession (contract Part 1b "Rendezvous: proof of key possession"):
 *
 *   K     = HKDF-SHA256(ikm = X25519(pod private key, rendezvous key), salt = "mzm-rdv-v1",
 *                       info = peer_id + "|" + rendezvous key, L = 32)
 *   proof = base64url(HMAC-SHA256(K, "mzm-rdv1\n" + peer_id + "\n" + url + "\n" + ts))
 *
 * The pod derives K with its private key and the rendezvous's public key; the rendezvous with
 * its private key and the pod's public key (X25519 is symmetric). A token holder who knows only
 * a pod's public key (or its hash) cannot compute K, so cannot move that pod's URL. The proof
 * binds the URL and the time, so a captured registration cannot be replayed for another URL or
 * outside the ±300 s window. Both sides import this module: the math exists once.
 */
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto'
import { fromBase64url, toBase64url } from '../lib/base64url'
import { RENDEZVOUS_PROOF_DOMAIN, RENDEZVOUS_PROOF_SALT } from '../protocol'
import { deriveSharedKey } from './pair-key'
import type { PublicKey } from './types'

const RDV_SALT = new TextEncoder().encode(RENDEZVOUS_PROOF_SALT)
const PROOF_BYTES = 32

export { RENDEZVOUS_MAX_SKEW_S } from '../protocol'

/** K of the contract, as an HMAC key (opaque to logs and JSON). */
export type RendezvousProofKey = KeyObject

/**
 * K for `peerId`. The pod passes its private key and the rendezvous key; the rendezvous passes
 * its private key and the pod's key; `rendezvousKey` (in `info`) is the rendezvous's public key
 * on both sides.
 */
export async function deriveRendezvousProofKey(
  ourPrivate: CryptoKey,
  theirPublic: PublicKey,
  peerId: string,
  rendezvousKey: PublicKey,
): Promise<RendezvousProofKey> {
  const bytes = await deriveSharedKey(ourPrivate, theirPublic, RDV_SALT, `${peerId}|${rendezvousKey}`)
  return createSecretKey(Buffer.from(bytes))
}

function proofBytes(k: RendezvousProofKey, peerId: string, url: string, ts: number): Buffer {
  return createHmac('sha256', k).update(`${RENDEZVOUS_PROOF_DOMAIN}\n${peerId}\n${url}\n${ts}`, 'utf8').digest()
}

/** base64url proof for one registration; `ts` is unix seconds. */
export function signRendezvousProof(k: RendezvousProofKey, peerId: string, url: string, ts: number): string {
  return toBase64url(proofBytes(k, peerId, url, ts))
}

/** Constant-time check of a presented proof. */
export function verifyRendezvousProof(k: RendezvousProofKey, peerId: string, url: string, ts: number, proof: string): boolean {
  const presented = fromBase64url(proof)
  if (!presented || presented.length !== PROOF_BYTES) return false
  return timingSafeEqual(presented, proofBytes(k, peerId, url, ts))
}
