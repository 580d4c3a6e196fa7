/**
 * The Web Crypto AES-256-GCM decryption Deno's runtime uses for sealed pages (aes-gcm-web.ts),
 * run here under Bun's Web Crypto against node:crypto's sealing; deno-adapter.test.ts runs the
 * sealed-page open under Deno itself.
 */
import { expect, test } from 'bun:test'
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes } from 'node:crypto'
import { webDecryptAesGcm, webEncryptAesGcm } from '../../src/runtime/aes-gcm-web'

const key = createSecretKey(randomBytes(32))
const aad = new TextEncoder().encode('mzm1-resp\nAAAAAAAAAAAAAAAAAAAAAA')
const plain = new TextEncoder().encode('{"memories":[]}'.repeat(100))

function seal(iv: Uint8Array, with_aad = aad): Uint8Array {
  const c = createCipheriv('aes-256-gcm', key, iv)
  c.setAAD(with_aad)
  return new Uint8Array(Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]))
}

test('opens what node:crypto sealed, twice with the same key object', async () => {
  const iv = randomBytes(12)
  expect(await webDecryptAesGcm(key, iv, seal(iv), aad)).toEqual(plain)
  const iv2 = randomBytes(12)
  expect(await webDecryptAesGcm(key, iv2, seal(iv2), aad)).toEqual(plain)
})

test('a flipped bit, another iv, another AAD or another key is refused', async () => {
  const iv = randomBytes(12)
  const sealed = seal(iv)
  for (const at of [0, plain.length - 1, plain.length, sealed.length - 1]) {
    const tampered = sealed.slice()
    tampered[at]! ^= 0x01
    await expect(webDecryptAesGcm(key, iv, tampered, aad)).rejects.toThrow()
  }
  await expect(webDecryptAesGcm(key, randomBytes(12), sealed, aad)).rejects.toThrow()
  await expect(webDecryptAesGcm(key, iv, sealed, new TextEncoder().encode('mzm1\nAAAAAAAAAAAAAAAAAAAAAA'))).rejects.toThrow()
  await expect(webDecryptAesGcm(createSecretKey(randomBytes(32)), iv, sealed, aad)).rejects.toThrow()
})

test('what it seals is what node:crypto seals: opened by Decipheriv, and the same bytes for the same iv', async () => {
  const iv = randomBytes(12)
  const sealed = await webEncryptAesGcm(key, iv, plain, aad)
  expect(sealed).toEqual(seal(iv))
  const d = createDecipheriv('aes-256-gcm', key, iv)
  d.setAAD(aad)
  d.setAuthTag(sealed.subarray(sealed.length - 16))
  expect(new Uint8Array(Buffer.concat([d.update(sealed.subarray(0, sealed.length - 16)), d.final()]))).toEqual(plain)
  expect(await webDecryptAesGcm(key, iv, sealed, aad)).toEqual(plain)
})
