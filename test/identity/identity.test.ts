import { createHmac } from 'node:crypto'
import { expect, test } from 'bun:test'
import { parseHandshakeUrl } from '../../src/identity'
import { ID_A, ID_B, testIdentity } from './_keypair'

test('checkAdminToken accepts only the exact token', async () => {
  const id = await testIdentity(ID_A)
  expect(id.checkAdminToken(id.adminToken)).toBe(true)
  expect(id.checkAdminToken(undefined)).toBe(false)
  expect(id.checkAdminToken('')).toBe(false)
  expect(id.checkAdminToken(id.adminToken.slice(0, -1))).toBe(false)
  expect(id.checkAdminToken(`${id.adminToken}x`)).toBe(false)
})

test('pairKey: both pods get the same HMAC key, and it is cached per (peer, key)', async () => {
  const a = await testIdentity(ID_A)
  const b = await testIdentity(ID_B)
  const kab = await a.pairKey(ID_B, b.publicKey)
  const kba = await b.pairKey(ID_A, a.publicKey)
  const msg = new TextEncoder().encode('hello')
  expect(createHmac('sha256', kab.secret).update(msg).digest()).toEqual(createHmac('sha256', kba.secret).update(msg).digest())
  expect(await a.pairKey(ID_B, b.publicKey)).toBe(kab)
  const other = await testIdentity(ID_B)
  expect(await a.pairKey(ID_B, other.publicKey)).not.toBe(kab)
})

test('pairKey failures are reported, not cached', async () => {
  const a = await testIdentity(ID_A)
  const bad = 'A'.repeat(43) as never
  await expect(a.pairKey(ID_B, bad)).rejects.toThrow(/not a usable X25519 key/)
  await expect(a.pairKey(ID_B, bad)).rejects.toThrow(/not a usable X25519 key/)
})

test('handshakeUrl carries id, key, name and the given urls', async () => {
  const a = await testIdentity(ID_A, 'alca 7G')
  expect(parseHandshakeUrl(a.handshakeUrl())).toEqual({ podId: ID_A, key: a.publicKey, name: 'alca 7G' })
  expect(parseHandshakeUrl(a.handshakeUrl({ urls: ['https://a.example', 'http://10.0.0.2:8765'] })).urls).toEqual(['https://a.example', 'http://10.0.0.2:8765'])
})

test('secrets do not show up when the identity is serialised', async () => {
  const a = await testIdentity(ID_A)
  const json = JSON.stringify(a)
  expect(json).not.toContain(a.adminToken)
  expect(json).not.toContain('vaultKey')
  expect(Bun.inspect(a)).not.toContain(a.adminToken)
})
