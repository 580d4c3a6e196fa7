/**
 * AES-256-GCM through Web Crypto, for the runtime whose node:crypto GCM is slow. Deno's
 * Decipheriv decrypts about 200 MB/s on the main thread (0.13 s of a 100k pull's 23 MB of pages,
 * against 2 ms under Bun); its Web Crypto decrypts the same in about 0.04 s on a worker thread, so
 * the main thread is free to store the page before while the next one opens. Sealing is the same
 * on the serving side: 1.9 ms a page with Cipheriv, 0.6 ms here.
 */
import type { KeyObject } from 'node:crypto'

/**
 * The plaintext of `data` (ciphertext ‖ 16-byte tag) under `key`, `iv` and `aad`; rejects when the
 * tag does not verify (wrong key, nonce or bytes), with nothing of the plaintext handed out.
 */
export async function webDecryptAesGcm(key: KeyObject, iv: Uint8Array, data: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
  const plain = await crypto.subtle.decrypt(gcm(iv, aad), await webKey(key, 'decrypt'), bytes(data))
  return new Uint8Array(plain)
}

/** `plain` sealed under `key`, `iv` and `aad`: ciphertext ‖ 16-byte tag, as node:crypto's Cipheriv gives them. */
export async function webEncryptAesGcm(key: KeyObject, iv: Uint8Array, plain: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.encrypt(gcm(iv, aad), await webKey(key, 'encrypt'), bytes(plain)))
}

// Our bytes live in ArrayBuffers (never shared memory); the DOM types ask for that in the type.
const bytes = (u: Uint8Array) => u as Uint8Array<ArrayBuffer>

const gcm = (iv: Uint8Array, aad: Uint8Array) => ({ name: 'AES-GCM', iv: bytes(iv), additionalData: bytes(aad), tagLength: 128 })

/** Imported per call, not cached: microseconds against a page's work, and no key held at module level. */
const webKey = (key: KeyObject, use: 'encrypt' | 'decrypt') => crypto.subtle.importKey('raw', key.export(), 'AES-GCM', false, [use])
