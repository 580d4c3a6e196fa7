/**
 * X25519 keys. On disk and on the wire a key is 32 bytes as 43-char base64url (no padding).
 * The private key lives only in a non-extractable Web Crypto key; its public half is derived
 * with node:crypto (Web Crypto cannot derive it from `d` alone).
 */
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto'
import { BadInput } from '../lib/errors'
import { fromBase64url, toBase64url } from '../lib/base64url'
import { KEY_BYTES, keyTextProblem } from '../protocol'
import type { PublicKey } from './types'

export { isPublicKey, KEY_BYTES, keyTextProblem } from '../protocol'

// PKCS#8 DER prefix for a raw 32-byte X25519 private key (RFC 8410).
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex')

/** Trims, then requires exactly 43 canonical base64url characters (32 bytes). */
export function parsePublicKey(text: string): PublicKey {
  const trimmed = text.trim()
  const problem = keyTextProblem(trimmed, { canonical: true })
  if (problem) throw new BadInput(`public key ${problem}`)
  return trimmed as PublicKey
}

/** 32 random bytes: an X25519 private scalar, a vault key or an admin token. */
export function randomKeyBytes(): Uint8Array {
  return new Uint8Array(randomBytes(KEY_BYTES))
}

export function publicKeyFromPrivate(privateBytes: Uint8Array): PublicKey {
  const der = Buffer.concat([X25519_PKCS8_PREFIX, privateBytes])
  const jwk = createPublicKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })).export({ format: 'jwk' })
  if (typeof jwk.x !== 'string') throw new Error('X25519 public key export returned no x')
  return jwk.x as PublicKey
}

/** Non-extractable X25519 private key for deriveBits. */
export function importPrivateKey(privateBytes: Uint8Array, publicKey: PublicKey): Promise<CryptoKey> {
  const jwk: JsonWebKey = { kty: 'OKP', crv: 'X25519', d: toBase64url(privateBytes), x: publicKey }
  return crypto.subtle.importKey('jwk', jwk, { name: 'X25519' }, false, ['deriveBits'])
}

export function importPublicKey(key: PublicKey): Promise<CryptoKey> {
  const raw = fromBase64url(key)
  if (!raw || raw.length !== KEY_BYTES) throw new BadInput(`public key ${keyTextProblem(key) ?? 'is invalid'}`)
  return crypto.subtle.importKey('raw', new Uint8Array(raw), { name: 'X25519' }, true, [])
}
