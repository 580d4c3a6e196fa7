/**
 * 32-byte secrets stored as 43 base64url characters + "\n" in a 0600 file, created once
 * (atomically, never overwritten, never regenerated): the pod's self.key, vault.key and
 * admin.token, and the rendezvous service's own X25519 key pair.
 */
import { HomeError } from '../lib/errors'
import { fromBase64url, toBase64url } from '../lib/base64url'
import { createFileOnce, readPrivateFile } from '../lib/private-files'
import { importPrivateKey, KEY_BYTES, keyTextProblem, publicKeyFromPrivate, randomKeyBytes } from './keys'
import type { PublicKey } from './types'

export interface KeyFile {
  bytes: Uint8Array
  /** The 43 characters as stored (trimmed). */
  text: string
  /** True when this call created the file. */
  created: boolean
}

/** A 32-byte secret file; null when it does not exist. `fix` ends the error message for a damaged file. */
export function readKeyFile(path: string, label: string, fix: string): Omit<KeyFile, 'created'> | null {
  const text = readPrivateFile(path, label)
  if (text === null) return null
  const trimmed = text.trim()
  const problem = keyTextProblem(trimmed)
  const bytes = problem ? null : fromBase64url(trimmed)
  if (!bytes || bytes.length !== KEY_BYTES) {
    const why = problem ? ` (${problem.replace(/^is /, '')})` : ''
    throw new HomeError(`${label} at ${path} is not 43 base64url characters${why}; ${fix}`)
  }
  return { bytes, text: trimmed }
}

/** Reads the secret at `path`, creating it (32 random bytes, 0600, atomically) when absent. */
export function loadOrCreateKeyFile(path: string, label: string, fix: string): KeyFile {
  const existing = readKeyFile(path, label, fix)
  if (existing) return { ...existing, created: false }
  const created = createFileOnce(path, toBase64url(randomKeyBytes()) + '\n')
  // Read back: when another process won the race to create it, its content is the one.
  return { ...readKeyFile(path, label, fix)!, created }
}

export interface X25519KeyPair {
  publicKey: PublicKey
  /** Non-extractable: usable for deriveBits only. */
  privateKey: CryptoKey
  created: boolean
}

/** An X25519 key pair whose private half lives in `path` (created on first use). */
export async function loadOrCreateX25519KeyPair(path: string, label: string, fix: string): Promise<X25519KeyPair> {
  const file = loadOrCreateKeyFile(path, label, fix)
  const publicKey = publicKeyFromPrivate(file.bytes)
  return { publicKey, privateKey: await importPrivateKey(file.bytes, publicKey), created: file.created }
}
