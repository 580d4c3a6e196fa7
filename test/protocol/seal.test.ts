/**
 * Sealed sync bodies (docs/PROTOCOL.md §5): the key derivation and the body layout checked
 * against an independent computation, and every way a sealed body must fail to open.
 */
import { describe, expect, test } from 'bun:test'
import { createDecipheriv, hkdfSync, randomBytes, randomUUID } from 'node:crypto'
import { importPairKey } from '../../src/identity'
import {
  openRequest,
  openResponse,
  openResponseAsync,
  SealError,
  sealKeys,
  sealRequest,
  sealResponse,
  sealResponseFast,
  SEAL_OVERHEAD_BYTES,
} from '../../src/protocol'

const CALLER = randomUUID()
const CALLEE = randomUUID()
const NONCE = 'AAAAAAAAAAAAAAAAAAAAAA'
const plain = new TextEncoder().encode('{"since":null,"scope":["public:*"],"limit":500}')

async function setup() {
  const raw = randomBytes(32)
  const pairKey = await importPairKey(raw)
  return { raw, pairKey, keys: sealKeys(pairKey, CALLER, CALLEE) }
}

/** The contract's formula, computed here with nothing of src/. */
function contractKey(raw: Uint8Array, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', raw, 'mzm-seal-v1', info, 32))
}

function contractOpen(key: Buffer, aad: string, sealed: Uint8Array): Buffer {
  const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12))
  d.setAAD(Buffer.from(aad))
  d.setAuthTag(sealed.subarray(sealed.length - 16))
  return Buffer.concat([d.update(sealed.subarray(12, sealed.length - 16)), d.final()])
}

describe('the contract formula', () => {
  test('req_key and resp_key are HKDF(pair_key, "mzm-seal-v1", "req|"/"resp|" + caller + "|" + callee)', async () => {
    const { raw, keys } = await setup()
    expect(new Uint8Array(keys.request.export())).toEqual(new Uint8Array(contractKey(raw, `req|${CALLER}|${CALLEE}`)))
    expect(new Uint8Array(keys.response.export())).toEqual(new Uint8Array(contractKey(raw, `resp|${CALLER}|${CALLEE}`)))
  })

  test('a sealed body is iv ‖ ciphertext ‖ tag under AAD "mzm1\\n"+nonce / "mzm1-resp\\n"+nonce', async () => {
    const { raw, keys } = await setup()
    const req = sealRequest(keys, NONCE, plain)
    expect(req.length).toBe(plain.length + SEAL_OVERHEAD_BYTES)
    expect(contractOpen(contractKey(raw, `req|${CALLER}|${CALLEE}`), `mzm1\n${NONCE}`, req)).toEqual(Buffer.from(plain))
    const resp = sealResponse(keys, NONCE, plain)
    expect(contractOpen(contractKey(raw, `resp|${CALLER}|${CALLEE}`), `mzm1-resp\n${NONCE}`, resp)).toEqual(Buffer.from(plain))
  })

  test('a fresh iv each time: the same plaintext never seals to the same bytes', async () => {
    const { keys } = await setup()
    expect(Buffer.from(sealRequest(keys, NONCE, plain))).not.toEqual(Buffer.from(sealRequest(keys, NONCE, plain)))
  })

  test('keys are derived once per pair key and direction', async () => {
    const { pairKey, keys } = await setup()
    expect(sealKeys(pairKey, CALLER, CALLEE)).toBe(keys)
    const back = sealKeys(pairKey, CALLEE, CALLER)
    expect(Buffer.from(back.request.export())).not.toEqual(Buffer.from(keys.request.export()))
    // Asked alternately (the last direction is kept at hand), each direction still gets its own.
    for (let i = 0; i < 3; i++) {
      expect(sealKeys(pairKey, CALLER, CALLEE)).toBe(keys)
      expect(sealKeys(pairKey, CALLEE, CALLER)).toBe(back)
      expect(sealKeys(pairKey, CALLER, CALLER)).not.toBe(keys)
    }
  })
})

describe('what does not open', () => {
  test('round trip, then a bit flipped anywhere (iv, ciphertext, tag) is refused', async () => {
    const { keys } = await setup()
    const sealed = sealResponse(keys, NONCE, plain)
    expect(openResponse(keys, NONCE, sealed)).toEqual(plain)
    for (const at of [0, 11, 12, 20, sealed.length - 17, sealed.length - 1]) {
      const tampered = sealed.slice()
      tampered[at]! ^= 0x01
      expect(() => openResponse(keys, NONCE, tampered)).toThrow(SealError)
    }
  })

  test("the puller's open (off the main thread where the runtime can) opens and refuses the same", async () => {
    const { keys } = await setup()
    const sealed = sealResponse(keys, NONCE, plain)
    expect(await openResponseAsync(keys, NONCE, sealed)).toEqual(plain)
    const tampered = sealed.slice()
    tampered[20]! ^= 0x01
    await expect(openResponseAsync(keys, NONCE, tampered)).rejects.toThrow(SealError)
    await expect(openResponseAsync(keys, NONCE, sealed.subarray(0, SEAL_OVERHEAD_BYTES - 1))).rejects.toThrow(SealError)
    await expect(openResponseAsync(keys, 'BBBBBBBBBBBBBBBBBBBBBB', sealed)).rejects.toThrow(SealError)
  })

  test("the server's fast seal: under Bun at once (a hub's answers pay no await), whatever the size, and it opens as the contract says", async () => {
    const { raw, keys } = await setup()
    const big = new TextEncoder().encode(`{"memories":[${'"x",'.repeat(20_000)}"x"]}`)
    for (const page of [plain, big]) {
      const sealed = sealResponseFast(keys, NONCE, page)
      if (!(sealed instanceof Uint8Array)) throw new Error('sealed off the main thread under Bun')
      expect(new Uint8Array(contractOpen(contractKey(raw, `resp|${CALLER}|${CALLEE}`), `mzm1-resp\n${NONCE}`, sealed))).toEqual(page)
    }
  })

  test('another nonce (an answer replayed to another request) is refused', async () => {
    const { keys } = await setup()
    expect(() => openResponse(keys, 'BBBBBBBBBBBBBBBBBBBBBB', sealResponse(keys, NONCE, plain))).toThrow(SealError)
  })

  test('the other direction or the other kind is refused: no reflection of a request as an answer', async () => {
    const { pairKey, keys } = await setup()
    const req = sealRequest(keys, NONCE, plain)
    expect(() => openResponse(keys, NONCE, req)).toThrow(SealError)
    expect(() => openRequest(sealKeys(pairKey, CALLEE, CALLER), NONCE, req)).toThrow(SealError)
    expect(openRequest(keys, NONCE, req)).toEqual(plain)
  })

  test('another pair key is refused', async () => {
    const { keys } = await setup()
    const other = (await setup()).keys
    expect(() => openRequest(other, NONCE, sealRequest(keys, NONCE, plain))).toThrow(SealError)
  })

  test('a body shorter than iv + tag, or empty, is refused without throwing anything else', async () => {
    const { keys } = await setup()
    for (const n of [0, 1, 27]) expect(() => openRequest(keys, NONCE, new Uint8Array(n))).toThrow(SealError)
    expect(openRequest(keys, NONCE, sealRequest(keys, NONCE, new Uint8Array(0)))).toEqual(new Uint8Array(0))
  })
})
