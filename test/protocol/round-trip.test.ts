/**
 * Every message of the wire, both ways: encoded with the client's helpers, decoded with the
 * server's schema, and back. If the two sides drift (a renamed field, a tighter limit on one side
 * only, a default that differs), this fails.
 */
import { describe, expect, test } from 'bun:test'
import { createSecretKey, randomBytes, randomUUID } from 'node:crypto'
import * as v from 'valibot'
import { BadInput } from '../../src/lib/errors'
import {
  asText,
  BadSignature,
  decodeOpenedAnswer,
  decodeSyncRequest,
  memoizedRequestDecoder,
  openSyncRequest,
  openSyncResponse,
  parseAuthorization,
  SealError,
  sealKeys,
  sealSyncRequest,
  sealSyncResponse,
  signResponse,
  verifyRequest,
  decodeSyncResponse,
  encodeSyncRequest,
  encodeSyncResponse,
  LookupAnswerSchema,
  PAGE_LIMIT_MAX,
  RegisterSchema,
  RendezvousKeyAnswerSchema,
  SCOPE_MAX_GLOBS,
  SyncResponseSchema,
  WAIT_MAX_S,
  type SyncResponse,
} from '../../src/protocol'
import { importPairKey } from '../../src/identity'
import { NonceCache } from '../../src/http/nonce-cache'
import { publicKeyFromPrivate, randomKeyBytes } from '../../src/identity/keys'
import { signedRegistration } from '../../src/sync/rendezvous-client'

const badInput = (fn: () => unknown): string => {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(BadInput)
    return (err as BadInput).message
  }
  throw new Error('expected BadInput')
}
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value))

describe('sync request: puller encodes, callee decodes', () => {
  test('every field survives, and defaults fill what the puller left out', () => {
    const full = { since: '42', scope: ['public:*', 'team:?'], limit: 1000, wait: 50 }
    expect(decodeSyncRequest(encodeSyncRequest(full))).toEqual(full)
    expect(decodeSyncRequest(encodeSyncRequest({ since: null }))).toEqual({ since: null, scope: ['public:*'], limit: 500, wait: 0 })
    // A single glob string is the contract's other spelling of a one-glob scope.
    expect(decodeSyncRequest(encodeSyncRequest({ since: null, scope: 'a:*' })).scope).toEqual(['a:*'])
  })

  test('a memoized decoder decodes the same text to one frozen request (kept for the next asker); a refused text is refused every time', () => {
    const decode = memoizedRequestDecoder()
    const text = json({ since: '7', scope: ['public:*'], limit: 500, wait: 50 })
    const first = decode(text)
    expect(decode(new Uint8Array(text))).toBe(first)
    expect(Object.isFrozen(first) && Object.isFrozen(first.scope)).toBe(true)
    expect(() => first.scope.push('private:*')).toThrow(TypeError)
    expect(decode(text)).toEqual({ since: '7', scope: ['public:*'], limit: 500, wait: 50 })
    // One character apart is another request.
    expect(decode(json({ since: '7', scope: ['public:*'], limit: 500, wait: 49 })).wait).toBe(49)
    const bad = json({ since: null, limit: 0 })
    for (let i = 0; i < 2; i++) expect(badInput(() => decode(bad))).toContain('limit')
    // Past the memo's bound the requests still decode (it starts over).
    for (let i = 0; i < 600; i++) expect(decode(json({ since: String(i) })).since).toBe(String(i))
    expect(decode(text)).toEqual(first)
    // Each decoder keeps its own (a module-level memo would be shared by every pod in the process).
    expect(memoizedRequestDecoder()(text)).not.toBe(first)
    expect(decodeSyncRequest(text)).not.toBe(decodeSyncRequest(text))
    expect(Object.isFrozen(decodeSyncRequest(text))).toBe(true)
  })

  test('the puller writes only the contract fields, whatever object it is handed', () => {
    const extra = { since: null, limit: 10, secret: 'x' } as unknown as Parameters<typeof encodeSyncRequest>[0]
    expect(JSON.parse(new TextDecoder().decode(encodeSyncRequest(extra)))).toEqual({ since: null, limit: 10 })
  })

  test('the callee refuses what breaks a limit, naming it', () => {
    expect(badInput(() => decodeSyncRequest(json({ since: null, limit: 0 })))).toContain('limit')
    expect(badInput(() => decodeSyncRequest(json({ since: null, limit: PAGE_LIMIT_MAX + 1 })))).toContain('limit')
    expect(badInput(() => decodeSyncRequest(json({ since: null, limit: 1.5 })))).toContain('limit')
    expect(badInput(() => decodeSyncRequest(json({ since: null, wait: WAIT_MAX_S + 1 })))).toContain('wait')
    expect(badInput(() => decodeSyncRequest(json({ since: null, wait: -1 })))).toContain('wait')
    expect(badInput(() => decodeSyncRequest(json({ since: 'x'.repeat(65) })))).toContain('since')
    expect(badInput(() => decodeSyncRequest(json({ since: null, scope: Array(SCOPE_MAX_GLOBS + 1).fill('a') })))).toContain('at most 16')
    expect(badInput(() => decodeSyncRequest(json({ since: null, extra: 1 })))).toContain('extra')
    expect(badInput(() => decodeSyncRequest(json({})))).toContain('since')
    expect(badInput(() => decodeSyncRequest(new TextEncoder().encode('{')))).toContain('JSON')
    expect(badInput(() => decodeSyncRequest(new Uint8Array([0x7b, 0xff, 0x7d])))).toContain('UTF-8')
  })
})

describe('sync response: callee encodes, puller decodes', () => {
  const at = '2026-05-26T10:00:00.000Z'
  const page: SyncResponse = {
    pod_id: randomUUID(),
    cursor: '1234',
    more: true,
    memories: [
      { id: randomUUID(), label: 'public:x', content: 'ünïcödé ✓ "quoted"\n', created_at: at, updated_at: at },
      { id: randomUUID(), deleted: true },
    ],
  }

  test('a page with a memory and a tombstone survives unchanged', () => {
    expect(decodeSyncResponse(encodeSyncResponse(page))).toEqual(page)
    expect(v.parse(SyncResponseSchema, JSON.parse(new TextDecoder().decode(encodeSyncResponse(page))))).toEqual(page)
  })

  test('the callee writes only the contract fields', () => {
    const withExtra = { ...page, secret: 'x' } as SyncResponse
    expect(Object.keys(JSON.parse(new TextDecoder().decode(encodeSyncResponse(withExtra))))).toEqual(['pod_id', 'cursor', 'more', 'memories'])
  })

  test('a page handed over as text (asText, as the fetch thread does) decodes as from its bytes; bytes that are not UTF-8 stay bytes and are refused alike', () => {
    const bytes = encodeSyncResponse(page)
    const asTextAnswer = asText({ plain: bytes })
    expect(asTextAnswer).toEqual({ text: new TextDecoder().decode(bytes) })
    expect(decodeOpenedAnswer(asTextAnswer)).toEqual(page)
    const broken = new Uint8Array([...bytes.subarray(0, 20), 0xff, 0xfe, ...bytes.subarray(20)])
    expect(asText({ plain: broken })).toEqual({ plain: broken })
    expect(badInput(() => decodeOpenedAnswer(asText({ plain: broken })))).toBe(badInput(() => decodeSyncResponse(broken)))
    expect(badInput(() => decodeOpenedAnswer(asText({ plain: json({ ...page, cursor: '' }) })))).toContain('cursor')
    expect(asText({ failure: 'seal' })).toEqual({ failure: 'seal' })
  })

  test('the puller refuses a malformed page', () => {
    expect(badInput(() => decodeSyncResponse(json({ ...page, pod_id: 'not-a-uuid' })))).toContain('pod_id')
    expect(badInput(() => decodeSyncResponse(json({ ...page, cursor: '' })))).toContain('cursor')
    expect(badInput(() => decodeSyncResponse(json({ ...page, memories: [{ id: randomUUID(), deleted: false }] })))).toContain('memories')
    expect(badInput(() => decodeSyncResponse(json({ ...page, memories: Array(PAGE_LIMIT_MAX + 1).fill(page.memories[1]) })))).toContain('memories')
  })
})

describe('rendezvous: pod encodes a registration, the rendezvous decodes it; and the answers back', () => {
  test('a signed registration passes the rendezvous schema unchanged', async () => {
    // A signer needs only an id, a public key and K; K's math is tested with the rendezvous.
    const signer = { podId: randomUUID(), publicKey: publicKeyFromPrivate(randomKeyBytes()), rendezvousProofKey: async () => createSecretKey(randomBytes(32)) }
    const body = await signedRegistration(signer, 'B'.repeat(43) as never, 'https://pod.example/mzm', Date.parse('2026-05-26T10:00:00Z'))
    expect(v.parse(RegisterSchema, JSON.parse(JSON.stringify(body))) as unknown).toEqual(body)
  })

  test('the rendezvous answers decode on the pod', () => {
    const lookup = { peer_id: randomUUID(), url: 'https://pod.example', expires_at: '2026-05-26T10:05:00.000Z' }
    expect(v.parse(LookupAnswerSchema, JSON.parse(JSON.stringify(lookup)))).toEqual(lookup)
    expect(v.safeParse(LookupAnswerSchema, { ...lookup, url: 'https://pod.example/?x=1' }).success).toBe(false)
    const info = { key: 'A'.repeat(43), version: '1.0.0' }
    expect(v.parse(RendezvousKeyAnswerSchema, JSON.parse(JSON.stringify(info))) as unknown).toEqual(info)
    expect(v.safeParse(RendezvousKeyAnswerSchema, { key: 'B'.repeat(43) }).success).toBe(false) // stray bits: not canonical
  })
})

describe('the whole sealed exchange: puller → callee → puller', () => {
  const caller = randomUUID()
  const callee = randomUUID()
  const at = '2026-05-26T10:00:00.000Z'
  const page: SyncResponse = {
    pod_id: callee,
    cursor: '7',
    more: false,
    memories: [{ id: randomUUID(), label: 'public:x', content: 'c', created_at: at, updated_at: at }],
  }

  test('sealed, signed, verified, opened and decoded on each side', async () => {
    const pairKey = await importPairKey(randomBytes(32))
    const nowMs = Date.parse(at)
    const sent = sealSyncRequest({ pairKey, callerId: caller, calleeId: callee, request: { since: '3', limit: 10, wait: 20 }, nowMs })
    expect(sent.headers['content-type']).toBe('application/vnd.mzm.sealed')
    // The callee: Bearer over the sealed bytes first, then open.
    const auth = parseAuthorization(sent.headers.authorization)!
    expect(auth.nonce).toBe(sent.nonce)
    verifyRequest({ pairKey, auth, method: 'POST', route: '/peer/sync', calleeId: callee, body: sent.body, nowMs, nonces: new NonceCache() })
    const { request, keys } = openSyncRequest({ pairKey, callerId: auth.callerId, calleeId: callee, nonce: auth.nonce, body: sent.body })
    expect(request).toEqual({ since: '3', scope: ['public:*'], limit: 10, wait: 20 })
    const answer = sealSyncResponse({ pairKey, keys, nonce: auth.nonce, page })
    // The puller.
    expect(openSyncResponse({ pairKey, sent, body: answer.body, signature: answer.signature })).toEqual(page)
  })

  test('an answer sealed under another key or for another request fails, and says which check', async () => {
    const pairKey = await importPairKey(randomBytes(32))
    const sent = sealSyncRequest({ pairKey, callerId: caller, calleeId: callee, request: { since: null }, nowMs: Date.now() })
    const keys = sealKeys(pairKey, caller, callee)
    const wrongKey = sealSyncResponse({ pairKey, keys: sealKeys(await importPairKey(randomBytes(32)), caller, callee), nonce: sent.nonce, page })
    expect(() => openSyncResponse({ pairKey, sent, ...wrongKey })).toThrow(SealError)
    const otherNonce = sealSyncResponse({ pairKey, keys, nonce: 'B'.repeat(22), page })
    // Signed for the other nonce too: the signature check catches it first.
    expect(() => openSyncResponse({ pairKey, sent, ...otherNonce })).toThrow(BadSignature)
    // Signed for our nonce but sealed under the other AAD: the seal catches it.
    const resigned = { body: otherNonce.body, signature: signResponse(pairKey, sent.nonce, otherNonce.body) }
    expect(() => openSyncResponse({ pairKey, sent, ...resigned })).toThrow(SealError)
    const flipped = sealSyncResponse({ pairKey, keys, nonce: sent.nonce, page })
    flipped.body[20]! ^= 1
    expect(() => openSyncResponse({ pairKey, sent, ...flipped })).toThrow(BadSignature)
  })
})
