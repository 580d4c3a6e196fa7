import { expect, test } from 'bun:test'
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto'
import { BadInput } from '../../src/lib/errors'
import { toBase64url } from '../../src/lib/base64url'
import { parsePublicKey, isPublicKey } from '../../src/identity'
import { publicKeyFromPrivate, randomKeyBytes } from '../../src/identity/keys'

const KEY = 'n_RzHuTRHYvqrJ0dN44D_kgQ1esIx06jVNu7puWYDHQ'

test('parsePublicKey trims and accepts 43 canonical base64url characters', () => {
  expect(parsePublicKey(` ${KEY}\n`)).toBe(KEY as never)
  expect(isPublicKey(KEY)).toBe(true)
})

test.each([
  ['too short', KEY.slice(0, 42), /public key is too short \(42 characters, expected 43\)/],
  ['too long', `${KEY}A`, /public key is too long \(44 characters/],
  ['padded', `${KEY}=`, /not base64url/],
  ['standard base64 alphabet', `${KEY.slice(0, 42)}+`, /not base64url/],
  ['non-canonical last character', `${KEY.slice(0, 42)}R`, /not canonical/],
  ['empty', '', /too short \(0 characters/],
])('parsePublicKey refuses %s', (_name, text, message) => {
  expect(() => parsePublicKey(text)).toThrow(BadInput)
  expect(() => parsePublicKey(text)).toThrow(message)
})

test('publicKeyFromPrivate matches node:crypto X25519', () => {
  const { privateKey, publicKey } = generateKeyPairSync('x25519')
  const d = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url')
  expect(publicKeyFromPrivate(new Uint8Array(d))).toBe(publicKey.export({ format: 'jwk' }).x as never)
  // and the other way round for a random scalar
  const bytes = randomKeyBytes()
  const x = publicKeyFromPrivate(bytes)
  const viaJwk = createPublicKey(createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: toBase64url(bytes), x }, format: 'jwk' }))
  expect(viaJwk.export({ format: 'jwk' }).x).toBe(x)
  expect(isPublicKey(x)).toBe(true)
})
