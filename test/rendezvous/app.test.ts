import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Hono } from 'hono'
import { Database } from 'bun:sqlite'
import { loadOrCreateX25519KeyPair, type Identity, type X25519KeyPair } from '../../src/identity'
import { FakeClock } from '../../src/lib/clock'
import { memoryLogger } from '../../src/lib/log'
import { createRendezvousApp, type RendezvousAppDeps } from '../../src/rendezvous/app'
import { openRendezvousStore, sha256Hex, type RendezvousStore } from '../../src/rendezvous/store'
import { RECORD_TTL_MS } from '../../src/rendezvous/constants'
import { signedRegistration } from '../../src/sync/rendezvous-client'
import { ID_A, testIdentity } from '../identity/_keypair'

const ID = ID_A

let dir: string
let clock: FakeClock
let db: RendezvousStore
let log: ReturnType<typeof memoryLogger>
let app: Hono
let ip: string
let token: string
let rvKey: X25519KeyPair
/** The pod registering as ID, and an attacker holding a valid token but only its own key. */
let pod: Identity
let KEY: string
let OTHER_KEY: string

const makeApp = (over: Partial<RendezvousAppDeps> = {}) => createRendezvousApp({ db, key: rvKey, clock, log, getIp: () => ip, ...over })

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mzm-rv-app-'))
  clock = new FakeClock()
  db = openRendezvousStore(join(dir, 'rendezvous.db'), clock)
  log = memoryLogger()
  ip = '198.51.100.1'
  rvKey = await loadOrCreateX25519KeyPair(join(dir, 'rendezvous.key'), 'rendezvous.key', 'restore it')
  app = makeApp()
  token = db.createToken('test').token
  pod = await testIdentity(ID)
  KEY = pod.publicKey
  OTHER_KEY = (await testIdentity(ID)).publicKey
})

afterEach(() => {
  db.close()
  rmSync(dir, { recursive: true, force: true })
})

function register(body: unknown, opts: { token?: string | null; type?: string } = {}) {
  const headers: Record<string, string> = { 'content-type': opts.type ?? 'application/json' }
  const t = opts.token === undefined ? token : opts.token
  if (t !== null) headers.authorization = `Bearer ${t}`
  return app.request('/api/peers/register', { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) })
}

/** A register body signed by `who` (default: the pod) for `url` now; `over` then replaces fields as sent. */
async function signed(opts: { url?: string; who?: Identity; nowMs?: number; key?: string } = {}, over: Record<string, unknown> = {}) {
  const body = await signedRegistration(
    opts.who ?? pod,
    (opts.key ?? rvKey.publicKey) as never,
    opts.url ?? 'https://pod.example.ts.net',
    opts.nowMs ?? clock.now(),
  )
  return { ...body, ...over }
}

const lookup = (id: string = ID, key: string | null = KEY, via: 'header' | 'query' = 'header') =>
  app.request(`/api/peers/lookup/${id}${via === 'query' && key !== null ? `?key=${key}` : ''}`, {
    headers: via === 'header' && key !== null ? { 'mzm-peer-key': key } : {},
  })

describe('GET /api/rendezvous', () => {
  test('answers our public key (from rendezvous.key) and version', async () => {
    const res = await app.request('/api/rendezvous')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ key: rvKey.publicKey, version: expect.any(String) })
    expect(rvKey.publicKey).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })
})

describe('register + lookup', () => {
  test('round trip, key in the header or in the query', async () => {
    const res = await register(await signed())
    expect(res.status).toBe(200)
    const expires_at = new Date(clock.now() + RECORD_TTL_MS).toISOString()
    expect(await res.json()).toEqual({ peer_id: ID, url: 'https://pod.example.ts.net', expires_at })

    for (const via of ['header', 'query'] as const) {
      const found = await lookup(ID, KEY, via)
      expect(found.status).toBe(200)
      expect(found.headers.get('cache-control')).toBe('no-store')
      expect(await found.json()).toEqual({ peer_id: ID, url: 'https://pod.example.ts.net', expires_at })
    }
  })

  test('only the key hash is stored, never the key', async () => {
    await register(await signed())
    db.close()
    const raw = new Database(join(dir, 'rendezvous.db'), { readonly: true })
    const dump = JSON.stringify(raw.query('SELECT * FROM registrations').all())
    raw.close()
    expect(dump).toContain(sha256Hex(KEY))
    expect(dump).not.toContain(KEY)
    db = openRendezvousStore(join(dir, 'rendezvous.db'), clock)
  })

  test('a heartbeat refreshes the record; it expires 300 s after the last one', async () => {
    await register(await signed())
    clock.advance(RECORD_TTL_MS - 1000)
    await register(await signed({ url: 'http://100.64.0.2:8765' }))
    clock.advance(RECORD_TTL_MS - 1000)
    expect(await (await lookup()).json()).toMatchObject({ url: 'http://100.64.0.2:8765' })
    clock.advance(1000)
    expect((await lookup()).status).toBe(404)
  })

  test('404 alike for unknown, expired and wrong key', async () => {
    await register(await signed())
    const answers = [await lookup('00000000-0000-4000-8000-000000000000'), await lookup(ID, OTHER_KEY)]
    clock.advance(RECORD_TTL_MS)
    answers.push(await lookup())
    const bodies = await Promise.all(answers.map(async (r) => [r.status, await r.text()]))
    expect(bodies[0]).toEqual([404, JSON.stringify({ error: 'not_found', message: 'no live registration for this peer id and key' })])
    expect(bodies[1]).toEqual(bodies[0]!)
    expect(bodies[2]).toEqual(bodies[0]!)
  })

  test('409 when the id is bound to another key (a pod holding that other key, with a valid proof)', async () => {
    await register(await signed())
    const other = await testIdentity(ID) // its own key pair, claiming the same id
    const res = await register(await signed({ who: other, url: 'http://203.0.113.9:8765' }))
    expect(res.status).toBe(409)
    expect(await res.json()).toMatchObject({ error: 'conflict', message: expect.stringContaining('bound to another key') })
    expect(await (await lookup()).json()).toMatchObject({ url: 'https://pod.example.ts.net' })
  })

  test('lookup input is validated: bad id, missing or malformed key', async () => {
    const badId = await lookup('6356DB37-0F1E-4C2A-9D7B-1A2B3C4D5E6F')
    expect(badId.status).toBe(400)
    expect(await badId.json()).toEqual({ error: 'bad_input', message: 'peer id in the path must be a lowercase UUID' })
    const noKey = await lookup(ID, null)
    expect(noKey.status).toBe(400)
    expect((await noKey.json()).message).toContain('Mzm-Peer-Key')
    const shortKey = await lookup(ID, 'abc')
    expect(shortKey.status).toBe(400)
    expect((await shortKey.json()).message).toBe('key must be a 43-character base64url public key')
  })
})

describe('proof of key possession: a token holder without the key cannot bind or move an id', () => {
  const ATTACKER_URL = 'http://198.51.100.66:8765'

  /** The victim registered; the attacker holds a valid token of its own (or the same one). */
  async function victimRegistered(): Promise<string> {
    expect((await register(await signed())).status).toBe(200)
    return db.createToken('attacker').token
  }

  async function expectVictimUrlKept() {
    const found = await lookup()
    expect(found.status).toBe(200)
    expect((await found.json()).url).toBe('https://pod.example.ts.net')
  }

  test('with the victim key hash (the v1 body): refused, lookups still name the victim', async () => {
    const attackerToken = await victimRegistered()
    const res = await register({ peer_id: ID, url: ATTACKER_URL, key_hash: sha256Hex(KEY) }, { token: attackerToken })
    expect(res.status).toBe(400)
    expect((await res.json()).message).toContain('key_hash: unknown field')
    await expectVictimUrlKept()
  })

  test("with the victim's public key and a proof made with the attacker's own private key: 401 bad_proof", async () => {
    const attackerToken = await victimRegistered()
    const attacker = await testIdentity(ID)
    const forged = await signed({ who: attacker, url: ATTACKER_URL }, { key: KEY })
    for (const t of [attackerToken, token]) {
      const res = await register(forged, { token: t })
      expect(res.status).toBe(401)
      const json = await res.json()
      expect(json.error).toBe('bad_proof')
      expect(json.message).toContain('proof does not verify')
      expect(json.message).toContain('GET /api/rendezvous')
    }
    await expectVictimUrlKept()
  })

  test("with the victim's public key and a random or empty-ish proof: 401 bad_proof", async () => {
    const attackerToken = await victimRegistered()
    for (const proof of [Buffer.alloc(32).toString('base64url'), Buffer.alloc(32, 0xff).toString('base64url')]) {
      const res = await register(await signed({ url: ATTACKER_URL }, { proof }), { token: attackerToken })
      expect(res.status).toBe(401)
      expect((await res.json()).error).toBe('bad_proof')
    }
    await expectVictimUrlKept()
  })

  test('an id never registered cannot be bound to a key whose holder did not sign', async () => {
    const attacker = await testIdentity(ID)
    const res = await register(await signed({ who: attacker }, { key: KEY }))
    expect(res.status).toBe(401)
    expect((await lookup()).status).toBe(404)
  })

  test('a captured proof replayed for another URL (or another id) is refused', async () => {
    const captured = await signed()
    expect((await register(captured)).status).toBe(200)
    const attackerToken = db.createToken('attacker').token
    for (const changed of [
      { url: ATTACKER_URL },
      { url: 'https://pod.example.ts.net/' },
      { peer_id: '00000000-0000-4000-8000-000000000001' },
      { ts: captured.ts + 1 },
    ]) {
      const res = await register({ ...captured, ...changed }, { token: attackerToken })
      expect(res.status).toBe(401)
      expect((await res.json()).error).toBe('bad_proof')
    }
    await expectVictimUrlKept()
  })

  test('a proof made for another rendezvous key does not verify here', async () => {
    const elsewhere = await loadOrCreateX25519KeyPair(join(dir, 'other.key'), 'other.key', 'x')
    const res = await register(await signed({ key: elsewhere.publicKey }))
    expect(res.status).toBe(401)
    expect((await res.json()).error).toBe('bad_proof')
  })

  test('a stale or future ts (over 300 s) is 401 clock_skew; within 300 s it passes', async () => {
    for (const offset of [-301_000, 301_000, -3_600_000]) {
      const res = await register(await signed({ nowMs: clock.now() + offset }))
      expect(res.status).toBe(401)
      const json = await res.json()
      expect(json.error).toBe('clock_skew')
      expect(json.message).toMatch(/ts is \d+ s away from the rendezvous clock \(at most 300\)/)
    }
    expect((await lookup()).status).toBe(404)
    // A proof captured now and replayed after 301 s is refused the same way.
    const captured = await signed({ nowMs: clock.now() - 300_000 })
    expect((await register(captured)).status).toBe(200)
    clock.advance(1000)
    expect((await register(captured)).status).toBe(401)
  })

  test('a key that is not a canonical 43-char key, or not a usable X25519 point, is 400', async () => {
    const zero = Buffer.alloc(32).toString('base64url') // low-order point: no shared secret
    const zeroRes = await register(await signed({}, { key: zero }))
    expect(zeroRes.status).toBe(400)
    expect((await zeroRes.json()).message).toContain('not a usable X25519 key')
    // Same 32 bytes, last character with stray low bits: lookups hash the canonical spelling.
    const nonCanonical = KEY.slice(0, 42) + String.fromCharCode(KEY.charCodeAt(42) + 1)
    const bad = await register(await signed({}, { key: nonCanonical }))
    expect(bad.status).toBe(400)
    expect((await bad.json()).message).toContain('key: is not canonical')
  })
})

describe('register auth', () => {
  test('401 without a token, with an unknown one, and after revocation (which also drops the record)', async () => {
    for (const t of [null, 'mzr_' + 'x'.repeat(43), 'garbage']) {
      const res = await register(await signed(), { token: t })
      expect(res.status).toBe(401)
      expect((await res.json()).error).toBe('unauthorized')
    }
    const bearerless = await app.request('/api/peers/register', {
      method: 'POST',
      headers: { authorization: token, 'content-type': 'application/json' },
      body: JSON.stringify(await signed()),
    })
    expect(bearerless.status).toBe(401)

    expect((await register(await signed())).status).toBe(200)
    const id = db.listTokens()[0]!.id
    db.revokeToken(id)
    expect((await lookup()).status).toBe(404)
    const again = await register(await signed())
    expect(again.status).toBe(401)
    expect((await again.json()).message).toContain('revoked')
  })

  test('neither the token nor the key appears in a log line', async () => {
    await register(await signed())
    await register(await signed(), { token: 'mzr_' + 'y'.repeat(43) })
    await register(await signed({ who: await testIdentity(ID) }))
    await register(await signed({}, { proof: 'A'.repeat(43) }))
    const all = log.lines.join('\n')
    expect(all).not.toContain(token)
    expect(all).not.toContain('y'.repeat(43))
    expect(all).not.toContain(KEY)
    expect(all).toContain('op=register peer=6356db37')
  })
})

describe('register input', () => {
  test.each([
    [{ peer_id: 'not-a-uuid' }, 'peer_id: must be a lowercase UUID'],
    [{ peer_id: ID.toUpperCase() }, 'peer_id: must be a lowercase UUID'],
    [{ url: 'ftp://pod.example' }, 'url: must start with http:// or https://'],
    [{ url: 'javascript:alert(1)' }, 'url: must start with http:// or https://'],
    [{ url: 'https://user:pw@pod.example' }, 'url: must not contain credentials'],
    [{ url: 'not a url' }, 'url: must not contain whitespace'],
    [{ url: 'https://pod.example/' + 'a'.repeat(2048) }, 'url: is longer than 2048 characters'],
    // A base URL with ? or # would aim the puller's POST at another path of that host (blind SSRF).
    [{ url: 'http://127.0.0.1:8765/api/admin?' }, 'url: must not have a query'],
    [{ url: 'http://127.0.0.1:8765/memories?x=' }, 'url: must not have a query'],
    [{ url: 'http://127.0.0.1:8765/x#' }, 'url: must not have a fragment'],
    [{ url: 'http://user@127.0.0.1:8765' }, 'url: must not contain credentials'],
    [{ key: 'abc' }, 'key: is too short'],
    [{ ts: '1780000000' }, 'ts: must be unix seconds (a number)'],
    [{ ts: 1.5 }, 'ts: must be whole unix seconds'],
    [{ ts: -1 }, 'ts: must be unix seconds'],
    [{ proof: 'short' }, 'proof: must be 43 base64url characters'],
    [{ extra: 1 }, 'extra: unknown field (allowed: peer_id, url, key, ts, proof)'],
  ])('%j → 400 naming the field', async (over, expected) => {
    const res = await register(await signed({}, over))
    expect(res.status).toBe(400)
    const json = await res.json()
    expect(json.error).toBe('bad_input')
    expect(json.message).toContain(expected)
  })

  test.each([
    [{ peer_id: ID }, 'url: is required; key: is required; ts: is required; proof: is required'],
    [[1, 2], 'body must be a JSON object'],
    [null, 'body must be a JSON object'],
  ])('%j → 400', async (body, expected) => {
    const res = await register(body)
    expect(res.status).toBe(400)
    expect((await res.json()).message).toContain(expected)
  })

  test('not JSON, wrong content type', async () => {
    const notJson = await register('{nope')
    expect(notJson.status).toBe(400)
    expect((await notJson.json()).message).toBe('body is not valid JSON')
    const wrongType = await register(await signed(), { type: 'text/plain' })
    expect(wrongType.status).toBe(400)
    expect((await wrongType.json()).message).toBe('expected an application/json body')
  })

  test('413 for a body over 4 KiB', async () => {
    const res = await register(await signed({ url: 'https://pod.example/' + 'a'.repeat(5000) }))
    expect(res.status).toBe(413)
    expect(await res.json()).toEqual({ error: 'too_large', message: 'body is over 4096 bytes' })
  })

  test('503 full when the table is at its bound', async () => {
    db.close()
    db = openRendezvousStore(join(dir, 'rendezvous.db'), clock, { maxRegistrations: 1 })
    app = makeApp()
    expect((await register(await signed())).status).toBe(200)
    const res = await register(await signed({ who: await testIdentity('00000000-0000-4000-8000-000000000001') }))
    expect(res.status).toBe(503)
    expect((await res.json()).error).toBe('full')
  })
})

describe('per-token limits', () => {
  const idOf = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`

  test('10 registrations (new ids or URL moves) per second per token: then 429 with Retry-After; other tokens unaffected', async () => {
    // Each signed a second after the one before: a registration must be newer than the last accepted.
    const moves = await Promise.all(Array.from({ length: 13 }, (_, i) => signed({ url: `https://pod${i}.example.ts.net`, nowMs: clock.now() + i * 1000 })))
    for (let i = 0; i < 10; i++) expect((await register(moves[i])).status).toBe(200)
    const limited = await register(moves[10])
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBe('1')
    expect(await limited.json()).toEqual({ error: 'rate_limited', message: expect.stringContaining('over 10 registrations per second') })
    expect(log.lines.filter((l) => l.includes('op=register') && l.includes('err=rate_limited'))).toHaveLength(1)

    // Bad proofs are charged too: the X25519 per request is what the limit protects.
    const other = db.createToken('other').token
    for (let i = 0; i < 10; i++) expect((await register(await signed({}, { proof: 'A'.repeat(43) }), { token: other })).status).toBe(401)
    expect((await register(moves[10], { token: other })).status).toBe(429)

    const third = db.createToken('third').token
    expect((await register(moves[11], { token: third })).status).toBe(200)
    clock.advance(100) // one token back
    expect((await register(moves[12])).status).toBe(200)
    expect((await register(moves[10])).status).toBe(429)
  })

  test('heartbeats of unchanged bindings are limited per id, not per token: 30 ids beating in one second all pass', async () => {
    app = makeApp()
    const pods = await Promise.all(Array.from({ length: 30 }, (_, i) => testIdentity(idOf(100 + i))))
    for (const [i, p] of pods.entries()) {
      expect((await register(await signed({ who: p }))).status).toBe(200)
      if (i % 10 === 9) clock.advance(1000) // first registrations at 10/s
    }
    clock.advance(60_000)
    // A token with 1,000 ids beating once a minute sends ~17/s: more than 10/s must pass.
    for (const p of pods) expect((await register(await signed({ who: p }))).status).toBe(200)
    // The same id again within 10 s (a quick restart, a retry) is answered from the binding, unwritten.
    const before = db.lookup(idOf(100), (await signed({ who: pods[0] })).key as string)!.expires_at
    clock.advance(2_000)
    const again = await register(await signed({ who: pods[0] }))
    expect(again.status).toBe(200)
    expect((await again.json()).expires_at).toBe(before)
    clock.advance(10_000)
    const later = await register(await signed({ who: pods[0] }))
    expect(later.status).toBe(200)
    expect((await later.json()).expires_at).not.toBe(before)
  })

  test('at most N ids per token (429 too_many_ids); heartbeats of its ids still pass; another token is not limited', async () => {
    db.close()
    db = openRendezvousStore(join(dir, 'rendezvous.db'), clock, { maxIdsPerToken: 3 })
    app = makeApp({ registrationsPerSecond: 1000 })
    token = db.createToken('capped').token
    const pods = await Promise.all([1, 2, 3, 4].map((n) => testIdentity(idOf(n))))
    for (const p of pods.slice(0, 3)) expect((await register(await signed({ who: p }))).status).toBe(200)
    const fourth = await register(await signed({ who: pods[3] }))
    expect(fourth.status).toBe(429)
    expect(await fourth.json()).toEqual({ error: 'too_many_ids', message: expect.stringContaining('already holds 3 peer ids') })
    // Heartbeats of ids already bound to the token count toward the rate, not the cap.
    clock.advance(60_000)
    for (const p of pods.slice(0, 3)) expect((await register(await signed({ who: p, url: 'http://10.0.0.9:8765' }))).status).toBe(200)
    const other = db.createToken('other').token
    expect((await register(await signed({ who: pods[3] }), { token: other })).status).toBe(200)
  })

  test('the real cap is 1,000 ids per token', async () => {
    db.close()
    db = openRendezvousStore(join(dir, 'rendezvous.db'), clock)
    app = makeApp({ registrationsPerSecond: 1_000_000 })
    token = db.createToken('big').token
    const tokenId = db.listTokens().find((t) => t.label === 'big')!.id
    for (let n = 1; n <= 1000; n++) db.register({ peer_id: idOf(n), url: 'http://10.0.0.1:8765', key_hash: sha256Hex(`k${n}`), token_id: tokenId, ts: 1 })
    const res = await register(await signed({ who: await testIdentity(idOf(1001)) }))
    expect(res.status).toBe(429)
    expect((await res.json()).error).toBe('too_many_ids')
  })
})

describe('failure rate limits (per source address)', () => {
  test('failed lookups from one source are limited to 30 a minute, then 429 with Retry-After', async () => {
    await register(await signed())
    for (let i = 0; i < 30; i++) expect((await lookup(ID, OTHER_KEY)).status).toBe(404)
    const limited = await lookup() // even a right key waits: no oracle while limited
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBe('2')
    expect((await limited.json()).error).toBe('rate_limited')
    expect(log.lines.filter((l) => l.includes('err=rate_limited'))).toHaveLength(1)

    ip = '198.51.100.2' // another source is unaffected
    expect((await lookup()).status).toBe(200)
    ip = '198.51.100.1'
    clock.advance(2000)
    expect((await lookup()).status).toBe(200)
  })

  test('successful lookups are not limited', async () => {
    await register(await signed())
    for (let i = 0; i < 100; i++) expect((await lookup()).status).toBe(200)
  })

  test('failed registrations are limited separately from lookups', async () => {
    const body = await signed()
    for (let i = 0; i < 30; i++) expect((await register(body, { token: null })).status).toBe(401)
    expect((await register(body)).status).toBe(429)
    expect((await lookup()).status).toBe(404) // the lookup bucket is still full
  })
})

describe('misc routes', () => {
  test('healthz', async () => {
    const res = await app.request('/healthz')
    expect(await res.json()).toEqual({ ok: true, service: 'rendezvous', version: expect.any(String) })
  })

  test('unknown routes and methods are JSON 404', async () => {
    for (const [method, path] of [
      ['GET', '/nope'],
      ['GET', '/api/peers/register'],
      ['DELETE', `/api/peers/lookup/${ID}`],
      ['POST', '/api/rendezvous'],
    ] as const) {
      const res = await app.request(path, { method })
      expect(res.status).toBe(404)
      expect((await res.json()).error).toBe('not_found')
    }
  })
})
