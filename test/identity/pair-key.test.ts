import { expect, test } from 'bun:test'
import { derivePairKeyBytes, type PodId } from '../../src/identity'
import { importPrivateKey, publicKeyFromPrivate, randomKeyBytes } from '../../src/identity/keys'
import { ID_A, ID_B, ID_C } from './_keypair'

async function keyPair() {
  const d = randomKeyBytes()
  const publicKey = publicKeyFromPrivate(d)
  return { publicKey, privateKey: await importPrivateKey(d, publicKey) }
}

test('both sides derive the same 32-byte pair key', async () => {
  const a = await keyPair()
  const b = await keyPair()
  const ab = await derivePairKeyBytes(a.privateKey, b.publicKey, ID_A, ID_B)
  const ba = await derivePairKeyBytes(b.privateKey, a.publicKey, ID_B, ID_A)
  expect(ab).toHaveLength(32)
  expect(Buffer.from(ab).toString('hex')).toBe(Buffer.from(ba).toString('hex'))
})

test('a third pod knowing both public keys cannot derive it', async () => {
  const a = await keyPair()
  const b = await keyPair()
  const c = await keyPair()
  const ab = Buffer.from(await derivePairKeyBytes(a.privateKey, b.publicKey, ID_A, ID_B)).toString('hex')
  const tries = [
    await derivePairKeyBytes(c.privateKey, a.publicKey, ID_B, ID_A),
    await derivePairKeyBytes(c.privateKey, b.publicKey, ID_A, ID_B),
    await derivePairKeyBytes(c.privateKey, a.publicKey, ID_C, ID_A),
  ]
  for (const k of tries) expect(Buffer.from(k).toString('hex')).not.toBe(ab)
})

test('the ids are bound in: same keys, other ids, other pair key', async () => {
  const a = await keyPair()
  const b = await keyPair()
  const ab = Buffer.from(await derivePairKeyBytes(a.privateKey, b.publicKey, ID_A, ID_B)).toString('hex')
  const ac = Buffer.from(await derivePairKeyBytes(a.privateKey, b.publicKey, ID_A, ID_C)).toString('hex')
  expect(ac).not.toBe(ab)
})

test('matches the contract formula (X25519 → HKDF-SHA256, salt mzm-pair-v1, info min|max)', async () => {
  const a = await keyPair()
  const b = await keyPair()
  const peer = await crypto.subtle.importKey('raw', Buffer.from(b.publicKey, 'base64url'), { name: 'X25519' }, false, [])
  const shared = await crypto.subtle.deriveBits({ name: 'X25519', public: peer }, a.privateKey, 256)
  const { hkdfSync } = await import('node:crypto')
  const info = ID_B < ID_A ? `${ID_B}|${ID_A}` : `${ID_A}|${ID_B}`
  const expected = Buffer.from(hkdfSync('sha256', Buffer.from(shared), 'mzm-pair-v1', info, 32)).toString('hex')
  expect(Buffer.from(await derivePairKeyBytes(a.privateKey, b.publicKey, ID_A, ID_B)).toString('hex')).toBe(expected)
})

test('refuses pairing with itself and unusable (low-order) keys', async () => {
  const a = await keyPair()
  const b = await keyPair()
  await expect(derivePairKeyBytes(a.privateKey, b.publicKey, ID_A, ID_A)).rejects.toThrow(/cannot pair with itself/)
  const zero = 'A'.repeat(43) as never
  await expect(derivePairKeyBytes(a.privateKey, zero, ID_A, ID_B as PodId)).rejects.toThrow(/not a usable X25519 key/)
})
