/**
 * The vault (contract "Vault"): content of private memories is stored as
 * `AES:` + base64(iv(12) ‖ ciphertext ‖ tag(16)), AES-256-GCM under vault.key, with the memory id
 * as additional data so a ciphertext copied onto another row fails to decrypt.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { PodError } from '../lib/errors'

export const VAULT_PREFIX = 'AES:'
export const VAULT_KEY_BYTES = 32
const IV_BYTES = 12
const TAG_BYTES = 16

export interface Vault {
  /** Encrypts `plaintext` bound to memory `id`. */
  encrypt(id: string, plaintext: string): string
  /** Decrypts a value written by encrypt() for the same `id`; throws PodError('vault_error') otherwise. */
  decrypt(id: string, stored: string): string
}

export function createVault(key: Uint8Array): Vault {
  if (key.byteLength !== VAULT_KEY_BYTES) {
    throw new PodError('vault_error', `vault key must be ${VAULT_KEY_BYTES} bytes, got ${key.byteLength}`)
  }
  // Own copy: the caller's buffer may be reused or zeroed later.
  const k = Buffer.from(key)
  return {
    encrypt(id, plaintext) {
      // A fresh random 96-bit IV per write; GCM is safe for far more messages than a pod holds.
      const iv = randomBytes(IV_BYTES)
      const cipher = createCipheriv('aes-256-gcm', k, iv, { authTagLength: TAG_BYTES })
      cipher.setAAD(Buffer.from(id, 'utf8'))
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
      return VAULT_PREFIX + Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64')
    },
    decrypt(id, stored) {
      const fail = (why: string, cause?: unknown) =>
        new PodError('vault_error', `cannot decrypt memory ${id}: ${why}; is vault.key the one this pod.db was written with?`, { cause })
      if (!stored.startsWith(VAULT_PREFIX)) throw fail('not vault ciphertext')
      const raw = Buffer.from(stored.slice(VAULT_PREFIX.length), 'base64')
      if (raw.byteLength < IV_BYTES + TAG_BYTES) throw fail('ciphertext too short')
      try {
        const decipher = createDecipheriv('aes-256-gcm', k, raw.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES })
        decipher.setAAD(Buffer.from(id, 'utf8'))
        decipher.setAuthTag(raw.subarray(raw.byteLength - TAG_BYTES))
        const out = Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.byteLength - TAG_BYTES)), decipher.final()])
        return out.toString('utf8')
      } catch (err) {
        throw fail('authentication failed', err)
      }
    },
  }
}
