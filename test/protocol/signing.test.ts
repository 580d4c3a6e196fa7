import { beforeEach, describe, expect, test } from 'bun:test'
import { AuthError } from '../../src/lib/errors'
import { importPairKey } from '../../src/identity'
import { NonceCache } from '../../src/http/nonce-cache'
import { randomKeyBytes } from '../../src/identity/keys'
import { hashBody, type PairKey, parseAuthorization, signRequest, signResponse, verifyRequest, verifyResponse } from '../../src/protocol'
import { ID_A, ID_B, ID_C } from '../identity/_keypair'

const NOW = Date.parse('2026-05-26T10:00:00.000Z')
const ROUTE = '/peer/sync' // the contract's literal, not SYNC_ROUTE: this test pins it
const BODY = '{"since":null,"scope":["public:*"],"limit":500}'

let pairKey: PairKey
let nonces: NonceCache
beforeEach(async () => {
  pairKey = await importPairKey(randomKeyBytes())
  nonces = new NonceCache()
})

/** HMAC-SHA256 computed independently of the code under test, with Web Crypto over the raw key bytes. */
async function webCryptoHmac(message: string): Promise<ArrayBuffer> {
  const key = await crypto.subtle.importKey('raw', new Uint8Array(pairKey.secret.export()), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
  return crypto.subtle.sign('HMAC', key, new TextEncoder().encode(message))
}

async function signed(overrides: { nowMs?: number; body?: string } = {}) {
  const { authorization, nonce } = await signRequest({
    pairKey,
    method: 'POST',
    route: ROUTE,
    callerId: ID_A,
    calleeId: ID_B,
    body: overrides.body ?? BODY,
    nowMs: overrides.nowMs ?? NOW,
  })
  return { authorization, nonce, auth: parseAuthorization(authorization)! }
}

type VerifyArgs = Parameters<typeof verifyRequest>[0]
const verify = async (auth: VerifyArgs['auth'], over: Partial<VerifyArgs> = {}) =>
  verifyRequest({ pairKey, auth, method: 'POST', route: ROUTE, calleeId: ID_B, body: BODY, nowMs: NOW, nonces, ...over })

async function expectAuthError(p: Promise<unknown>, code: AuthError['code']): Promise<void> {
  try {
    await p
  } catch (err) {
    expect(err).toBeInstanceOf(AuthError)
    expect((err as AuthError).code).toBe(code)
    return
  }
  throw new Error(`expected AuthError ${code}`)
}

test('the header has the contract shape and round-trips', async () => {
  const { authorization, nonce, auth } = await signed()
  expect(authorization).toMatch(/^Bearer mzm1\.[0-9a-f-]{36}\.\d+\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/)
  expect(auth).toEqual({ callerId: ID_A, ts: NOW / 1000, nonce, mac: authorization.split('.').at(-1)! })
  await verify(auth)
})

test('string and byte bodies sign alike', async () => {
  const { auth } = await signed()
  await verify(auth, { body: new TextEncoder().encode(BODY) })
})

test('the MAC is the contract formula', async () => {
  const { auth } = await signed()
  const message = `mzm1\nPOST\n${ROUTE}\n${ID_B}\n${auth.ts}\n${auth.nonce}\n${hashBody(BODY)}`
  const mac = await webCryptoHmac(message)
  expect(auth.mac).toBe(Buffer.from(mac).toString('base64url'))
  expect(hashBody('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
})

describe('tampering is unauthorized', () => {
  test('body', async () => expectAuthError(verify((await signed()).auth, { body: BODY.replace('500', '501') }), 'unauthorized'))
  test('method', async () => expectAuthError(verify((await signed()).auth, { method: 'PUT' }), 'unauthorized'))
  test('route', async () => expectAuthError(verify((await signed()).auth, { route: '/peer/other' }), 'unauthorized'))
  test('callee', async () => expectAuthError(verify((await signed()).auth, { calleeId: ID_C }), 'unauthorized'))
  test('ts', async () => {
    const { auth } = await signed()
    await expectAuthError(verify({ ...auth, ts: auth.ts + 1 }), 'unauthorized')
  })
  // The caller id is not in the MAC: it selects the pair key, so a wrong one fails here.
  test('other pair key', async () => {
    const { auth } = await signed()
    await expectAuthError(verify(auth, { pairKey: await importPairKey(randomKeyBytes()) }), 'unauthorized')
  })
  test('a bad MAC with a skewed clock is still just unauthorized', async () => {
    const { auth } = await signed({ nowMs: NOW - 3_600_000 })
    await expectAuthError(verify({ ...auth, mac: 'A'.repeat(43) }), 'unauthorized')
  })
})

describe('clock skew (only with a valid MAC)', () => {
  test.each([301_000, -301_000, 3_600_000])('%i ms off is refused', async (offset) => {
    const { auth } = await signed({ nowMs: NOW + offset })
    await expectAuthError(verify(auth), 'clock_skew')
  })
  test.each([300_000, -300_000, 299_999])('%i ms off is accepted', async (offset) => {
    const { auth } = await signed({ nowMs: NOW + offset })
    await verify(auth)
  })
  test('a skewed request does not burn its nonce', async () => {
    const { auth } = await signed({ nowMs: NOW - 400_000 })
    await expectAuthError(verify(auth), 'clock_skew')
    await verify(auth, { nowMs: NOW - 400_000 })
  })
})

describe('replay', () => {
  test('the same request twice is a replay', async () => {
    const { auth } = await signed()
    await verify(auth)
    await expectAuthError(verify(auth), 'replay')
    await expectAuthError(verify(auth, { nowMs: NOW + 299_000 }), 'replay')
  })
  test('a forged request does not record its nonce', async () => {
    const { auth } = await signed()
    await expectAuthError(verify({ ...auth, mac: 'B'.repeat(43) }), 'unauthorized')
    await verify(auth)
  })
})

describe('parseAuthorization is strict', () => {
  const good = `Bearer mzm1.${ID_A}.1779789600.${'n'.repeat(22)}.${'m'.repeat(43)}`
  test('accepts the exact format', () => {
    expect(parseAuthorization(good)).toEqual({ callerId: ID_A, ts: 1779789600, nonce: 'n'.repeat(22), mac: 'm'.repeat(43) })
  })
  test.each([
    ['missing', undefined],
    ['null', null],
    ['empty', ''],
    ['admin style token', 'Bearer abcdef'],
    ['lowercase scheme', good.replace('Bearer', 'bearer')],
    ['other version', good.replace('mzm1', 'mzm2')],
    ['uppercase id', good.replace(ID_A, ID_A.toUpperCase())],
    ['traversal id', good.replace(ID_A, '../../etc')],
    ['leading zero ts', good.replace('1779789600', '01779789600')],
    ['negative ts', good.replace('1779789600', '-1')],
    ['short nonce', good.replace('n'.repeat(22), 'n'.repeat(21))],
    ['long mac', good.replace('m'.repeat(43), 'm'.repeat(44))],
    ['trailing space', `${good} `],
    ['extra part', `${good}.x`],
  ])('refuses %s', (_name, header) => {
    expect(parseAuthorization(header as string | undefined)).toBeNull()
  })
})

describe('response signature', () => {
  test('verifies for the same nonce and body only', async () => {
    const body = '{"pod_id":"x","memories":[]}'
    const sig = await signResponse(pairKey, 'nonce-1234567890123456', body)
    expect(sig).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(await verifyResponse(pairKey, 'nonce-1234567890123456', body, sig)).toBe(true)
    expect(await verifyResponse(pairKey, 'nonce-1234567890123456', new TextEncoder().encode(body), sig)).toBe(true)
    expect(await verifyResponse(pairKey, 'nonce-other-0123456789', body, sig)).toBe(false)
    expect(await verifyResponse(pairKey, 'nonce-1234567890123456', `${body} `, sig)).toBe(false)
    expect(await verifyResponse(await importPairKey(randomKeyBytes()), 'nonce-1234567890123456', body, sig)).toBe(false)
    expect(await verifyResponse(pairKey, 'nonce-1234567890123456', body, '')).toBe(false)
    expect(await verifyResponse(pairKey, 'nonce-1234567890123456', body, `${sig}=`)).toBe(false)
  })
  test('is the contract formula', async () => {
    const sig = await signResponse(pairKey, 'n0nce', 'body')
    const mac = await webCryptoHmac(`mzm1-resp\nn0nce\n${hashBody('body')}`)
    expect(sig).toBe(Buffer.from(mac).toString('base64url'))
  })
})
