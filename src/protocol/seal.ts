/**
 * Sealed /peer/sync bodies (docs/PROTOCOL.md §5): a TLS-terminating tunnel, a proxy or a hijacked
 * URL that sees every byte learns no label, content, scope or cursor.
 *
 *   req_key  = HKDF-SHA256(pair_key, salt "mzm-seal-v1", info "req|"  + caller + "|" + callee, 32)
 *   resp_key = HKDF-SHA256(pair_key, salt "mzm-seal-v1", info "resp|" + caller + "|" + callee, 32)
 *   sealed   = iv (12 random bytes) ‖ AES-256-GCM ciphertext ‖ tag (16)
 *   AAD      = "mzm1\n" + nonce (request), "mzm1-resp\n" + nonce (response)
 *
 * The nonce in the AAD ties an answer to its request: an answer captured for one request does not
 * open as the answer to another. Both directions have their own key, so a request body can never
 * be reflected as a response. The Bearer MAC and Mzm-Signature cover the sealed bytes (signing.ts).
 * node:crypto, not Web Crypto: synchronous and cheaper per call, and a pull seals and opens
 * every page. Except a whole page under Deno (openResponseAsync, sealResponseFast): Deno's
 * node:crypto GCM runs on the main thread at about 120–200 MB/s, its Web Crypto off it and faster.
 */
import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto'
import { PodError } from '../lib/errors'
import { decryptAesGcm, encryptAesGcm } from '../runtime'
import type { PairKey } from './pair-key'
import { BEARER_SCHEME, RESPONSE_DOMAIN, SEAL_SALT } from './wire'

const IV_BYTES = 12
const TAG_BYTES = 16
const KEY_BYTES = 32
/** The smallest sealed body: an empty plaintext still carries its iv and tag. */
export const SEAL_OVERHEAD_BYTES = IV_BYTES + TAG_BYTES

/** The two AES-256-GCM keys of one direction of a relationship (caller pulls from callee). */
export interface SealKeys {
  readonly request: KeyObject
  readonly response: KeyObject
}

/** A sealed body that does not open: wrong key, wrong nonce, or tampered bytes. */
export class SealError extends PodError {
  constructor(what: string) {
    super('bad_seal', `${what} does not open with this relationship's key (tampered, or sealed for another request)`)
  }
}

/** req_key and resp_key for requests from `callerId` to `calleeId`: derived once per pair key, kept with it (pair-key.ts). */
export function sealKeys(pairKey: PairKey, callerId: string, calleeId: string): SealKeys {
  return pairKey.sealKeys(callerId, calleeId)
}

/** Derives both keys of one direction (`caller|callee`) from the pair key's bytes: two HKDFs, tens of µs. */
export function deriveSealKeys(secret: KeyObject, direction: string): SealKeys {
  return { request: derive(secret, `req|${direction}`), response: derive(secret, `resp|${direction}`) }
}

function derive(secret: KeyObject, info: string): KeyObject {
  return createSecretKey(Buffer.from(hkdfSync('sha256', secret, SEAL_SALT, info, KEY_BYTES)))
}

// Plain Uint8Arrays here, not Buffers: a hub seals and opens one of each per peer request, and
// Buffer's constructors and subarray cost it more than the bytes (measured in its profile).
const utf8 = new TextEncoder()
const requestAad = (nonce: string) => utf8.encode(`${BEARER_SCHEME}\n${nonce}`)
const responseAad = (nonce: string) => utf8.encode(`${RESPONSE_DOMAIN}\n${nonce}`)

export function sealRequest(keys: SealKeys, nonce: string, plaintext: Uint8Array): Uint8Array {
  return seal(keys.request, requestAad(nonce), plaintext)
}

export function openRequest(keys: SealKeys, nonce: string, sealed: Uint8Array): Uint8Array {
  return open(keys.request, requestAad(nonce), sealed, 'sealed request')
}

/**
 * openResponse for the puller, where the runtime decrypts off the main thread (Deno's Web Crypto):
 * the page before is stored meanwhile. Elsewhere the same synchronous open.
 */
export async function openResponseAsync(keys: SealKeys, nonce: string, sealed: Uint8Array): Promise<Uint8Array> {
  if (!decryptAesGcm) return openResponse(keys, nonce, sealed)
  if (sealed.length < SEAL_OVERHEAD_BYTES) throw new SealError('sealed response')
  try {
    return await decryptAesGcm(keys.response, sealed.subarray(0, IV_BYTES), sealed.subarray(IV_BYTES), responseAad(nonce))
  } catch {
    throw new SealError('sealed response')
  }
}

export function sealResponse(keys: SealKeys, nonce: string, plaintext: Uint8Array): Uint8Array {
  return seal(keys.response, responseAad(nonce), plaintext)
}

/** Below this, Web Crypto's fixed cost per call (about 170 µs under Deno) outweighs its speed. */
const OFF_THREAD_SEAL_MIN_BYTES = 32 * 1024

/**
 * sealResponse for the server, the fastest way the runtime has: the sealed bytes at once where
 * sealing stays on this thread (Bun; a small page), their promise where the runtime seals a big
 * page faster off it (Deno's Web Crypto). A hub answering 200 woken peers pays no await for it.
 */
export function sealResponseFast(keys: SealKeys, nonce: string, plaintext: Uint8Array): Uint8Array | Promise<Uint8Array> {
  if (!encryptAesGcm || plaintext.length < OFF_THREAD_SEAL_MIN_BYTES) return sealResponse(keys, nonce, plaintext)
  return sealOffThread(encryptAesGcm, keys.response, responseAad(nonce), plaintext)
}

async function sealOffThread(encrypt: NonNullable<typeof encryptAesGcm>, key: KeyObject, aad: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES))
  const sealed = await encrypt(key, iv, plaintext, aad)
  const out = new Uint8Array(IV_BYTES + sealed.length)
  out.set(iv)
  out.set(sealed, IV_BYTES)
  return out
}

export function openResponse(keys: SealKeys, nonce: string, sealed: Uint8Array): Uint8Array {
  return open(keys.response, responseAad(nonce), sealed, 'sealed response')
}

function seal(key: KeyObject, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  // One allocation (not zeroed: every byte is written below): iv ‖ ciphertext ‖ tag, the iv drawn
  // in place and the ciphertext written after it (GCM is a stream mode).
  const size = IV_BYTES + plaintext.length + TAG_BYTES
  const backing = Buffer.allocUnsafeSlow(size)
  const out = new Uint8Array(backing.buffer, backing.byteOffset, size)
  const iv = crypto.getRandomValues(out.subarray(0, IV_BYTES))
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(aad)
  let at = IV_BYTES
  const body = cipher.update(plaintext)
  out.set(body, at)
  at += body.length
  const rest = cipher.final()
  out.set(rest, at)
  at += rest.length
  out.set(cipher.getAuthTag(), at)
  return at + TAG_BYTES === size ? out : out.subarray(0, at + TAG_BYTES)
}

function open(key: KeyObject, aad: Uint8Array, sealed: Uint8Array, what: string): Uint8Array {
  const n = sealed.length
  if (n < SEAL_OVERHEAD_BYTES) throw new SealError(what)
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES))
    decipher.setAAD(aad)
    decipher.setAuthTag(sealed.subarray(n - TAG_BYTES))
    const head = decipher.update(sealed.subarray(IV_BYTES, n - TAG_BYTES))
    const tail = decipher.final() // throws when the tag does not verify: nothing of `head` is used then
    return tail.length === 0 ? new Uint8Array(head.buffer, head.byteOffset, head.length) : new Uint8Array(Buffer.concat([head, tail]))
  } catch {
    throw new SealError(what)
  }
}
