/**
 * Attacks on /peer/sync between real pod processes: a third pod that knows both public keys,
 * replays, stale timestamps, tampered requests and responses, responses signed or sealed with
 * the wrong key, plain bodies, what a proxy in the middle sees, and the separation of admin and
 * pair credentials.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { openHome, type Identity, type PodId, type PublicKey } from '../../src/identity'
import {
  openResponse,
  openSyncResponse,
  parseAuthorization,
  sealKeys,
  sealResponse,
  sealSyncRequest,
  signRequest,
  signResponse,
  type SyncRequestInput,
} from '../../src/protocol'
import { memoryLogger } from '../../src/lib/log'
import { cleanup, spawnPod, type PodProcess } from '../helpers/pod-process'
import { addPeer, copiesFrom, identityOf, pair, remember, syncNow } from '../helpers/federation'

let a: PodProcess, b: PodProcess, c: PodProcess
let idA: PodId, idB: PodId, keyA: PublicKey
let asB: Identity // B's identity read from its home, to sign requests the way B would
let asC: Identity

beforeAll(async () => {
  ;[a, b, c] = await Promise.all([spawnPod(), spawnPod(), spawnPod()])
  await pair(a, b)
  idA = (await identityOf(a)).pod_id as PodId
  idB = (await identityOf(b)).pod_id as PodId
  keyA = (await identityOf(a)).key as PublicKey
  asB = (await openHome(b.home, { log: memoryLogger() })).identity
  asC = (await openHome(c.home, { log: memoryLogger() })).identity
  await remember(a, 'public:s', 'secured')
})
afterAll(async () => {
  await cleanup([a, b, c])
})

/** A sealed request signed by `as` claiming to be `claimedId`; `tamper` changes the bytes after signing. */
async function signedSync(
  as: Identity,
  claimedId: PodId,
  opts: { nowMs?: number; request?: SyncRequestInput; tamper?: (body: Uint8Array) => Uint8Array } = {},
) {
  const pairKey = await as.pairKey(idA, keyA)
  const sent = sealSyncRequest({
    pairKey,
    callerId: claimedId,
    calleeId: idA,
    request: opts.request ?? { since: null, scope: ['public:*'], limit: 10 },
    nowMs: opts.nowMs ?? Date.now(),
  })
  const body = (opts.tamper ?? ((b) => b))(sent.body.slice())
  const send = () => fetch(a.url + '/peer/sync', { method: 'POST', headers: sent.headers, body: body as Uint8Array<ArrayBuffer> })
  /** Checks, opens and decodes a 200 answer as B would. */
  const open = async (res: Response) =>
    openSyncResponse({ pairKey, sent, body: new Uint8Array(await res.arrayBuffer()), signature: res.headers.get('mzm-signature') })
  return { send, open, nonce: sent.nonce, pairKey }
}

const flipBit = (at: number) => (body: Uint8Array) => {
  body[at]! ^= 0x01
  return body
}

describe('request authentication', () => {
  test('a correctly signed request is served and its response signature verifies', async () => {
    const { send, open } = await signedSync(asB, idB)
    const res = await send()
    expect(res.status).toBe(200)
    expect(res.headers.get('mzm-signature')).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(res.headers.get('content-type')).toBe('application/vnd.mzm.sealed')
    const body = await open(res)
    expect(body.pod_id).toBe(idA)
    expect(body.memories.map((m) => ('label' in m ? m.label : null))).toEqual(['public:s'])
  })

  test('a third pod that knows both public keys cannot authenticate as B', async () => {
    const { send } = await signedSync(asC, idB)
    const res = await send()
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ error: 'unauthorized' })
  })

  test('a replayed request is refused with replay', async () => {
    const { send } = await signedSync(asB, idB)
    expect((await send()).status).toBe(200)
    const again = await send()
    expect(again.status).toBe(401)
    expect(await again.json()).toMatchObject({ error: 'replay' })
  })

  test('a stale timestamp gets clock_skew (only with a valid MAC)', async () => {
    const { send } = await signedSync(asB, idB, { nowMs: Date.now() - 10 * 60 * 1000 })
    const res = await send()
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ error: 'clock_skew' })
    const forged = await signedSync(asC, idB, { nowMs: Date.now() - 10 * 60 * 1000 })
    expect(await (await forged.send()).json()).toMatchObject({ error: 'unauthorized' })
  })

  test('a sealed body with one bit flipped (iv, ciphertext or tag) is refused before it is opened', async () => {
    for (const at of [0, 30, -1]) {
      const { send } = await signedSync(asB, idB, { tamper: (b) => flipBit(at < 0 ? b.length + at : at)(b) })
      const res = await send()
      expect(res.status).toBe(401)
      expect(await res.json()).toMatchObject({ error: 'unauthorized' })
    }
  })

  test('a plain JSON body from a current peer, correctly signed, is refused with 415 sealed_required', async () => {
    const pairKey = await asB.pairKey(idA, keyA)
    const body = JSON.stringify({ since: null, scope: ['public:*'], limit: 10 })
    const { authorization } = signRequest({ pairKey, method: 'POST', route: '/peer/sync', callerId: idB, calleeId: idA, body, nowMs: Date.now() })
    const res = await fetch(a.url + '/peer/sync', { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body })
    expect(res.status).toBe(415)
    expect(res.headers.get('content-type')).toContain('application/json')
    const text = await res.text()
    expect(JSON.parse(text)).toMatchObject({ error: 'sealed_required' })
    expect(text).not.toContain('secured')
  })

  test('a request signed over its sealed bytes but sealed under another key is refused (400 bad_seal), nothing served', async () => {
    const pairKey = await asB.pairKey(idA, keyA)
    const wrong = await asC.pairKey(idA, keyA)
    const sent = sealSyncRequest({ pairKey: wrong, callerId: idB, calleeId: idA, request: { since: null }, nowMs: Date.now() })
    const { authorization } = signRequest({
      pairKey,
      method: 'POST',
      route: '/peer/sync',
      callerId: idB,
      calleeId: idA,
      body: sent.body,
      nowMs: Date.now(),
      nonce: sent.nonce,
    })
    const res = await fetch(a.url + '/peer/sync', { method: 'POST', headers: { ...sent.headers, authorization }, body: sent.body as Uint8Array<ArrayBuffer> })
    expect(res.status).toBe(400)
    const text = await res.text()
    expect(JSON.parse(text)).toMatchObject({ error: 'bad_seal' })
    expect(text).not.toContain('secured')
  })

  test('/peer/sync ignores the admin token; admin routes ignore pair tokens', async () => {
    const admin = await fetch(a.url + '/peer/sync', {
      method: 'POST',
      headers: { authorization: `Bearer ${a.token()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ since: null }),
    })
    expect(admin.status).toBe(401)
    const pairKey = await asB.pairKey(idA, keyA)
    const { authorization } = signRequest({ pairKey, method: 'GET', route: '/memories', callerId: idB, calleeId: idA, body: '', nowMs: Date.now() })
    const res = await fetch(a.url + '/memories', { headers: { authorization } })
    expect(res.status).toBe(401)
  })
})

describe('response verification', () => {
  /** A server in front of A that sees every byte both ways and may rewrite what A answers. */
  function proxy(
    rewrite: (body: Uint8Array, res: Response, req: Request) => Promise<Response> = async (body, res) =>
      new Response(body as Uint8Array<ArrayBuffer>, { status: res.status, headers: res.headers }),
  ) {
    const seen: Uint8Array[] = []
    const server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      async fetch(req) {
        const body = new Uint8Array(await req.arrayBuffer())
        seen.push(body)
        const res = await fetch(a.url + new URL(req.url).pathname, { method: req.method, headers: req.headers, body: body as Uint8Array<ArrayBuffer> })
        const answer = new Uint8Array(await res.arrayBuffer())
        seen.push(answer)
        return rewrite(answer, res, req)
      },
    })
    return Object.assign(server, { seen })
  }

  /** D's pair key with A and its seal keys, read from D's home as D derives them. */
  async function keysOfD(d: PodProcess) {
    const asD = (await openHome(d.home, { log: memoryLogger() })).identity
    const pairKey = await asD.pairKey(idA, keyA)
    return { pairKey, seal: sealKeys(pairKey, asD.podId, idA) }
  }

  async function pullThrough(server: ReturnType<typeof Bun.serve>, beforeSync?: (d: PodProcess) => Promise<void>) {
    const d = await spawnPod()
    try {
      await addPeer(a, d)
      await beforeSync?.(d)
      const hsA = (await identityOf(a)).handshake_url
      expect((await d.api('POST', '/peer/add', { handshake_url: hsA, direct_url: `http://127.0.0.1:${server.port}` })).status).toBe(201)
      const result = (await syncNow(d))[0]!
      return { result, copies: await copiesFrom(d, idA), status: (await d.api('GET', '/peer/peers')).body.peers[0] }
    } finally {
      await cleanup([d])
      await server.stop(true)
    }
  }

  test('a tampered response is refused and nothing is stored', async () => {
    const server = proxy(async (body, res) => new Response(flipBit(40)(body.slice()) as Uint8Array<ArrayBuffer>, { status: res.status, headers: res.headers }))
    const { result, copies, status } = await pullThrough(server)
    expect(result).toMatchObject({ ok: false, error: 'bad_signature' })
    expect(copies).toEqual([])
    expect(status.status).toBe('error')
    expect(status.last_error).toContain('bad_signature')
  })

  test('a response signed with the wrong key is refused and nothing is stored', async () => {
    const server = proxy(async (body, res, req) => {
      const nonce = req.headers.get('authorization')!.split('.')[3]!
      const wrongKey = await asC.pairKey(idA, keyA)
      const headers = new Headers(res.headers)
      headers.set('mzm-signature', signResponse(wrongKey, nonce, body))
      return new Response(body as Uint8Array<ArrayBuffer>, { status: res.status, headers })
    })
    const { result, copies } = await pullThrough(server)
    expect(result).toMatchObject({ ok: false, error: 'bad_signature' })
    expect(copies).toEqual([])
  })

  test('a response signed with the pair key but sealed under another key, or for another request, stores nothing', async () => {
    for (const variant of ['wrong key', 'wrong nonce'] as const) {
      let d: { pairKey: Awaited<ReturnType<typeof asB.pairKey>>; seal: ReturnType<typeof sealKeys> } | undefined
      const other = sealKeys(await asC.pairKey(idA, keyA), idB, idA)
      const server = proxy(async (body, res, req) => {
        if (res.status !== 200 || !d) return new Response(body as Uint8Array<ArrayBuffer>, { status: res.status, headers: res.headers })
        const nonce = parseAuthorization(req.headers.get('authorization'))!.nonce
        // The proxy is handed D's keys (a stronger attacker than any real one) and re-seals A's
        // real page wrongly, then signs it correctly: only the seal check stands in the way.
        const plain = openResponse(d.seal, nonce, body)
        const resealed = variant === 'wrong key' ? sealResponse(other, nonce, plain) : sealResponse(d.seal, 'C'.repeat(22), plain)
        const headers = new Headers(res.headers)
        headers.set('mzm-signature', signResponse(d.pairKey, nonce, resealed))
        return new Response(resealed as Uint8Array<ArrayBuffer>, { status: 200, headers })
      })
      const { result, copies } = await pullThrough(server, async (pod) => {
        d = await keysOfD(pod)
      })
      expect(result).toMatchObject({ ok: false, error: 'bad_response' })
      expect(copies).toEqual([])
    }
  })

  test('a proxy that logs both bodies of a successful pull learns no label and no content', async () => {
    await remember(a, 'public:proxy-label-7f3a', 'proxy-content-91c2 ünïcödé')
    const server = proxy()
    const { result, copies } = await pullThrough(server)
    expect(result).toMatchObject({ ok: true })
    expect(copies).toContain(`peer:${idA}:public:proxy-label-7f3a`)
    expect(server.seen.length).toBeGreaterThanOrEqual(2)
    const logged = Buffer.concat(server.seen)
    for (const secret of ['public:s', 'secured', 'proxy-label-7f3a', 'proxy-content-91c2', 'ünïcödé', 'public:*', 'memories', 'pod_id']) {
      expect(logged.includes(Buffer.from(secret, 'utf8'))).toBe(false)
    }
  })
})
