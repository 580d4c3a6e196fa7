/**
 * X25519 keys. On disk and on the wire a key is 32 bytes as 43-char base64url (no padding).
 * The private key lives only in a non-extractable Web Crypto key; its public half is derived
 * with node:crypto (Web Crypto cannot derive it from `d` alone).
 */
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto'
import { BadInput } from '../lib/errors'
import { fromBase64url, toBase64url } from '../lib/base64url'
import type { PublicKey } from './types'

export const KEY_BYTES = 32
export const KEY_CHARS = 43

const BASE64URL_RE = /^[A-Za-z0-9_-]*$/
// 43 chars carry 258 bits; the last character's two low bits must be zero, so that every key
// has exactly one spelling (a key file and a handshake URL compare as strings).
const CANONICAL_LAST_RE = /[AEIMQUYcgkosw048]$/
// PKCS#8 DER prefix for a raw 32-byte X25519 private key (RFC 8410).
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex')

/**
 * What is wrong with a 43-char base64url key text, or null. `canonical` also rejects a last
 * character with stray bits (used for public keys, which are compared as strings).
 */
export function keyTextProblem(text: string, opts: { canonical?: boolean } = {}): string | null {
  if (!BASE64URL_RE.test(text)) return 'is not base64url (only A-Z a-z 0-9 - _, no padding)'
  if (text.length < KEY_CHARS) return `is too short (${text.length} characters, expected ${KEY_CHARS})`
  if (text.length > KEY_CHARS) return `is too long (${text.length} characters, expected ${KEY_CHARS})`
  if (opts.canonical && !CANONICAL_LAST_RE.test(text)) return 'is not canonical base64url (its last character has stray bits)'
  return null
}

export function isPublicKey(text: unknown): text is PublicKey {
  return typeof text === 'string' && keyTextProblem(text, { canonical: true }) === null
}

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
