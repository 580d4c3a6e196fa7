/**
 * The runtime's own HMAC-SHA256 and SHA-256 (where it has them; signing.ts uses node:crypto
 * otherwise) give node:crypto's bytes for every input the wire signs: a peer under the other
 * runtime must verify what this one signs. Strings are hashed as UTF-8.
 */
import { expect, test } from 'bun:test'
import { createHash, createHmac, randomBytes } from 'node:crypto'
import { bunRuntime } from '../../src/runtime/bun'
import { denoRuntime } from '../../src/runtime/deno'

const messages = ['', 'mzm1-resp\nAAAAAAAAAAAAAAAAAAAAAA\n' + 'a'.repeat(64), 'é ü 中文 🙂 \u0000 \uffff', 'x'.repeat(100_000)]

test('Bun: HMAC and hex SHA-256 equal node:crypto on strings and bytes', () => {
  const { hmacSha256, hmacSha256Hex, sha256Hex } = bunRuntime
  expect(hmacSha256 && hmacSha256Hex && sha256Hex).toBeTruthy()
  for (let i = 0; i < 20; i++) {
    const key = new Uint8Array(randomBytes(32))
    for (const m of [...messages, randomBytes(i * 37).toString('base64')]) {
      expect(Buffer.from(hmacSha256!(key, m)).toString('hex')).toBe(createHmac('sha256', key).update(m, 'utf8').digest('hex'))
      expect(hmacSha256Hex!(key, m)).toBe(createHmac('sha256', key).update(m, 'utf8').digest('hex'))
      expect(sha256Hex!(m)).toBe(createHash('sha256').update(m, 'utf8').digest('hex'))
    }
    const bytes = new Uint8Array(randomBytes(i * 101))
    expect(sha256Hex!(bytes)).toBe(createHash('sha256').update(bytes).digest('hex'))
    // A view into a larger buffer hashes its own bytes only.
    const inner = new Uint8Array(randomBytes(64 + i)).subarray(7, 7 + i)
    expect(sha256Hex!(inner)).toBe(createHash('sha256').update(inner).digest('hex'))
  }
})

test('Deno keeps node:crypto (no native hashers in its adapter)', () => {
  expect(denoRuntime.hmacSha256).toBeNull()
  expect(denoRuntime.hmacSha256Hex).toBeNull()
  expect(denoRuntime.sha256Hex).toBeNull()
})
