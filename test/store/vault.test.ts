import { describe, expect, test } from 'bun:test'
import { randomBytes } from 'node:crypto'
import { createVault, VAULT_PREFIX } from '../../src/store/vault'
import { PodError } from '../../src/lib/errors'

const ID = '019e63ba-1500-7411-9222-a91ba458b6d4'
const OTHER = '019e63ba-1500-7412-b294-404f5db10615'

describe('vault', () => {
  test('round trip, AES: + base64(iv 12 | ciphertext | tag 16), fresh IV per write', () => {
    const v = createVault(randomBytes(32))
    const a = v.encrypt(ID, 'héllo wörld')
    const b = v.encrypt(ID, 'héllo wörld')
    expect(a.startsWith(VAULT_PREFIX)).toBe(true)
    expect(a).not.toBe(b)
    expect(Buffer.from(a.slice(4), 'base64').byteLength).toBe(12 + Buffer.byteLength('héllo wörld') + 16)
    expect(v.decrypt(ID, a)).toBe('héllo wörld')
    expect(v.decrypt(ID, b)).toBe('héllo wörld')
  })

  test('the memory id is bound as additional data: ciphertext moved to another id fails', () => {
    const v = createVault(randomBytes(32))
    const c = v.encrypt(ID, 'secret')
    expect(() => v.decrypt(OTHER, c)).toThrow(PodError)
    expect(() => v.decrypt(OTHER, c)).toThrow(/cannot decrypt memory/)
  })

  test('a wrong key, a flipped bit or a non-vault value fails loudly', () => {
    const key = randomBytes(32)
    const c = createVault(key).encrypt(ID, 'secret')
    expect(() => createVault(randomBytes(32)).decrypt(ID, c)).toThrow(/authentication failed/)
    const raw = Buffer.from(c.slice(4), 'base64')
    raw[14]! ^= 1
    expect(() => createVault(key).decrypt(ID, VAULT_PREFIX + raw.toString('base64'))).toThrow(PodError)
    expect(() => createVault(key).decrypt(ID, 'plain text')).toThrow(/not vault ciphertext/)
    expect(() => createVault(key).decrypt(ID, 'AES:AAAA')).toThrow(/too short/)
  })

  test('refuses a key that is not 32 bytes', () => {
    expect(() => createVault(randomBytes(16))).toThrow(/32 bytes/)
  })
})
