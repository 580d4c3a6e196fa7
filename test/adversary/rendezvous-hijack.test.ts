/**
 * A holder of any rendezvous token re-registered another pod's id with that
 * pod's key hash (public) and moved its URL to one the attacker controls. With proof of key
 * possession only the key's holder can move its URL; URLs with a query, fragment or
 * credentials are refused at the rendezvous and, from a lying rendezvous, by the pod itself
 * (it must not POST to whatever path a `?`/`#` smuggles in). Per-token rate limit: 10/s.
 * Each group of tests registers with a token of its own, fewer times than one burst, so no
 * test waits for a bucket to refill.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Server } from 'bun'
import { runCli, tempHome, type PodProcess } from '../helpers/pod-process'
import { entry, handshakeUrl, newKeyPair, page, registerBody, servePeer, type KeyPair } from './_contract'
import { copiesOf, peerRow, podTarget, spawn, stopPods, syncNow, startRendezvous, type RendezvousProcess } from './_fixture'

describe('at the rendezvous', () => {
  let rv: RendezvousProcess
  /** One token per group of tests: its owner's, the refused URLs', and a fresh one for the burst. */
  const tokens = { owner: '', urls: '', burst: '' }
  let rvKey: string
  const victim = newKeyPair()
  const attacker = newKeyPair()
  const victimUrl = 'http://127.0.0.1:9/victim'

  beforeAll(async () => {
    rv = await startRendezvous('mzm-rv-')
    const home = rv.home
    for (const group of Object.keys(tokens) as (keyof typeof tokens)[]) {
      const t = await runCli(['rendezvous', 'token', 'create', `adversary-${group}`, '--json', '--home', home])
      expect(t.code).toBe(0)
      tokens[group] = JSON.parse(t.stdout).token
    }
    const info = await fetch(`${rv.url}/api/rendezvous`)
    expect(info.status).toBe(200)
    rvKey = ((await info.json()) as { key: string }).key
    expect(rvKey).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })
  afterAll(async () => {
    await rv?.stop()
  })

  const post = (token: string, body: unknown) =>
    fetch(`${rv.url}/api/peers/register`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
  // Every attempt counts against its token's 10/s (a burst of 10), refused ones too, and a 429
  // would pass for a refusal: no group may spend more than one burst.
  const spent = new Map<string, number>()
  const register = (group: 'owner' | 'urls', body: unknown) => {
    const n = (spent.get(group) ?? 0) + 1
    if (n > 10) throw new Error(`the ${group} token's burst of 10 registrations is spent: give these tests a token of their own`)
    spent.set(group, n)
    return post(tokens[group], body)
  }
  const lookup = async (kp: KeyPair) => {
    const res = await fetch(`${rv.url}/api/peers/lookup/${kp.podId}?key=${kp.publicKey}`)
    return res.status === 200 ? ((await res.json()) as { url: string }).url : res.status
  }

  test('the key holder registers with a proof and is found', async () => {
    const res = await register('owner', registerBody(victim, rvKey, victimUrl))
    expect(res.status).toBeLessThan(300)
    expect(await lookup(victim)).toBe(victimUrl)
  })

  test("a token holder cannot move another pod's URL: its public key without a proof made by its private key is refused", async () => {
    // The attacker knows the victim's id and public key (both are in its handshake URL) but signs with its own key.
    const forged = registerBody(attacker, rvKey, 'http://127.0.0.1:9/evil', { as: victim.podId, key: victim.publicKey })
    const res = await register('owner', forged)
    expect(res.status).toBeGreaterThanOrEqual(400)
    expect(res.status).toBeLessThan(500)
    expect(await lookup(victim)).toBe(victimUrl)
  })

  test("claiming the victim's id with the attacker's own key is 409", async () => {
    const res = await register('owner', registerBody(attacker, rvKey, 'http://127.0.0.1:9/evil', { as: victim.podId }))
    expect(res.status).toBe(409)
    expect(await lookup(victim)).toBe(victimUrl)
  })

  test('the v1 body (a key hash, no proof) no longer registers anything', async () => {
    const res = await register('owner', {
      peer_id: victim.podId,
      url: 'http://127.0.0.1:9/evil',
      key_hash: new Bun.CryptoHasher('sha256').update(victim.publicKey).digest('hex'),
    })
    expect(res.status).toBe(400)
    expect(await lookup(victim)).toBe(victimUrl)
  })

  test('a proof replayed with another timestamp, or older than 300 s, is refused', async () => {
    const old = registerBody(victim, rvKey, 'http://127.0.0.1:9/moved', { tsS: Math.floor(Date.now() / 1000) - 3600 })
    expect((await register('owner', old)).status).toBeGreaterThanOrEqual(400)
    const fresh = registerBody(victim, rvKey, 'http://127.0.0.1:9/moved')
    expect((await register('owner', { ...fresh, ts: fresh.ts + 1 })).status).toBeGreaterThanOrEqual(400)
    expect(await lookup(victim)).toBe(victimUrl)
  })

  for (const bad of ['http://127.0.0.1:9/x?to=/admin', 'http://127.0.0.1:9/x#frag', 'http://user:pw@127.0.0.1:9/x', 'ftp://127.0.0.1/x', '/relative']) {
    test(`the owner cannot register ${bad} (400)`, async () => {
      const res = await register('urls', registerBody(victim, rvKey, bad))
      expect(res.status).toBe(400)
      expect(await lookup(victim)).toBe(victimUrl)
    })
  }

  test('one token registers (binds or moves an id) at most 10 times a second (429 beyond)', async () => {
    const kp = newKeyPair()
    // Every request moves the id to another URL: none is a mere heartbeat of an unchanged binding.
    const started = performance.now()
    const statuses = await Promise.all(
      Array.from({ length: 25 }, (_, i) => post(tokens.burst, registerBody(kp, rvKey, `http://127.0.0.1:9/burst${i}`)).then((r) => r.status)),
    )
    // A burst of 10, then 10 a second: on a loaded machine the 25 answers spread over more than
    // 100 ms, and each tenth of a second that passed may rightly let one more through.
    const refilled = Math.floor(((performance.now() - started) / 1000) * 10)
    expect(statuses).toContain(429)
    expect(statuses.filter((s) => s < 300).length).toBeLessThanOrEqual(10 + refilled)
  })
})

describe('a lying rendezvous', () => {
  let pod: PodProcess
  let fake: Server<undefined>
  const fakeKey = newKeyPair()
  const registered: { body: Record<string, unknown> }[] = []
  let answerUrl = ''
  const target = servePeer((req) => req.answer(page(target.self.podId, [entry('public:via-rendezvous', 'ok')])))
  const hits = target.paths // every path that reaches the adversary's server (the SSRF would show up here)

  beforeAll(async () => {
    fake = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      async fetch(req) {
        const path = new URL(req.url).pathname
        if (path === '/api/rendezvous') return Response.json({ key: fakeKey.publicKey, version: 'fake' })
        if (path === '/api/peers/register') {
          registered.push({ body: (await req.json()) as Record<string, unknown> })
          return Response.json({ ok: true, expires_at: new Date(Date.now() + 300_000).toISOString() })
        }
        const m = /^\/api\/peers\/lookup\/([0-9a-f-]{36})$/.exec(path)
        if (m) return Response.json({ peer_id: m[1], url: answerUrl, expires_at: new Date(Date.now() + 300_000).toISOString() })
        return new Response('no', { status: 404 })
      },
    })
    const home = tempHome()
    const joined = await runCli(['rendezvous', 'join', `http://127.0.0.1:${fake.port}`, '--token', 'fake-token', '--home', home])
    expect(joined.code).toBe(0)
    pod = await spawn({ home })
    target.pod = await podTarget(pod)
    // Paired by handshake only: the pod resolves our URL through the (lying) rendezvous.
    const add = await pod.api('POST', '/peer/add', { handshake_url: handshakeUrl(target.self), sync: true })
    expect(add.status).toBe(201)
  })
  afterAll(async () => {
    await target.stop()
    await fake?.stop(true)
    await stopPods([pod])
  })

  test("the pod's heartbeat carries a proof our contract code verifies", async () => {
    const deadline = Date.now() + 15_000
    while (registered.length === 0 && Date.now() < deadline) await Bun.sleep(50)
    const body = registered[0]!.body as { peer_id: string; url: string; key: string; ts: number; proof: string }
    expect(body.peer_id).toBe(target.pod!.podId)
    expect(body.key).toBe(target.pod!.key)
    expect(body).not.toHaveProperty('key_hash')
    // Recompute the proof on the rendezvous side (its private key, the pod's public key).
    const { hkdfSync, createHmac, diffieHellman, createPublicKey } = await import('node:crypto')
    const shared = diffieHellman({
      privateKey: fakeKey.privateKey,
      publicKey: createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: body.key }, format: 'jwk' }),
    })
    const k = Buffer.from(hkdfSync('sha256', shared, 'mzm-rdv-v1', `${body.peer_id}|${fakeKey.publicKey}`, 32))
    expect(body.proof).toBe(createHmac('sha256', k).update(`mzm-rdv1\n${body.peer_id}\n${body.url}\n${body.ts}`).digest('base64url'))
  })

  for (const smuggled of ['/evil?x=1', '/evil#frag', '/evil?x=#y']) {
    test(`a looked-up URL holding ${smuggled} is not used: no request to any smuggled path, nothing stored`, async () => {
      answerUrl = `${target.url}${smuggled}`
      const before = hits.length
      const res = await syncNow(pod, target.self.podId)
      expect(res.status).toBe(200)
      expect(res.body.results[0]?.ok).not.toBe(true)
      expect(hits.slice(before)).toEqual([])
      expect(await copiesOf(pod, target.self.podId)).toEqual([])
      expect((await peerRow(pod, target.self.podId))?.status).not.toBe('ready')
    })
  }

  test('control: a clean looked-up URL is pulled from (the mechanism above is live)', async () => {
    answerUrl = target.url
    const res = await syncNow(pod, target.self.podId)
    expect(res.body.results[0]).toMatchObject({ ok: true, stored: 1 })
    expect(hits.at(-1)).toBe('/peer/sync')
  })
})
