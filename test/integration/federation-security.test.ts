/**
 * Attacks on /peer/sync between real pod processes: a third pod that knows both public keys,
 * replays, stale timestamps, tampered requests and responses, responses signed with the wrong
 * key, and the separation of admin and pair credentials.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { openHome, type Identity, type PodId, type PublicKey } from '../../src/identity'
import { signRequest, signResponse } from '../../src/protocol'
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

async function signedSync(as: Identity, claimedId: PodId, opts: { nowMs?: number; body?: string; sendBody?: string } = {}) {
  const body = opts.body ?? JSON.stringify({ since: null, scope: ['public:*'], limit: 10 })
  const pairKey = await as.pairKey(idA, keyA)
  const { authorization, nonce } = await signRequest({
    pairKey,
    method: 'POST',
    route: '/peer/sync',
    callerId: claimedId,
    calleeId: idA,
    body,
    nowMs: opts.nowMs ?? Date.now(),
  })
  const send = () =>
    fetch(a.url + '/peer/sync', { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body: opts.sendBody ?? body })
  return { send, nonce, pairKey }
}

describe('request authentication', () => {
  test('a correctly signed request is served and its response signature verifies', async () => {
    const { send } = await signedSync(asB, idB)
    const res = await send()
    expect(res.status).toBe(200)
    expect(res.headers.get('mzm-signature')).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const body = (await res.json()) as { pod_id: string; memories: { label: string }[] }
    expect(body.pod_id).toBe(idA)
    expect(body.memories.map((m) => m.label)).toEqual(['public:s'])
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

  test('a tampered body is refused', async () => {
    const { send } = await signedSync(asB, idB, { sendBody: JSON.stringify({ since: null, scope: ['*'], limit: 10 }) })
    const res = await send()
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ error: 'unauthorized' })
  })

  test('/peer/sync ignores the admin token; admin routes ignore pair tokens', async () => {
    const admin = await fetch(a.url + '/peer/sync', {
      method: 'POST',
      headers: { authorization: `Bearer ${a.token()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ since: null }),
    })
    expect(admin.status).toBe(401)
    const pairKey = await asB.pairKey(idA, keyA)
    const { authorization } = await signRequest({ pairKey, method: 'GET', route: '/memories', callerId: idB, calleeId: idA, body: '', nowMs: Date.now() })
    const res = await fetch(a.url + '/memories', { headers: { authorization } })
    expect(res.status).toBe(401)
  })
})

describe('response verification', () => {
  /** A server in front of A that rewrites what A answers. */
  function proxy(rewrite: (body: string, res: Response, req: Request) => Promise<Response>) {
    return Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      async fetch(req) {
        const body = await req.text()
        const res = await fetch(a.url + new URL(req.url).pathname, { method: req.method, headers: req.headers, body })
        return rewrite(await res.text(), res, req)
      },
    })
  }

  async function pullThrough(server: ReturnType<typeof Bun.serve>) {
    const d = await spawnPod()
    try {
      await addPeer(a, d)
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
    const server = proxy(async (body, res) => new Response(body.replace('secured', 'tampered'), { status: res.status, headers: res.headers }))
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
      headers.set('mzm-signature', await signResponse(wrongKey, nonce, body))
      return new Response(body, { status: res.status, headers })
    })
    const { result, copies } = await pullThrough(server)
    expect(result).toMatchObject({ ok: false, error: 'bad_signature' })
    expect(copies).toEqual([])
  })
})
