import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Hono } from 'hono'
import { FakeClock } from '../../src/lib/clock'
import { memoryLogger } from '../../src/lib/log'
import { createRendezvousApp } from '../../src/rendezvous/app'
import { openRendezvousStore, sha256Hex, type RendezvousStore } from '../../src/rendezvous/store'
import { RECORD_TTL_MS } from '../../src/rendezvous/constants'

const ID = '6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f'
const KEY = 'k2Vb7mQ1xYp3Zr8sT4uW9aB6cD0eF5gH1iJ2kL3mN4o'
const OTHER_KEY = 'Zk2Vb7mQ1xYp3Zr8sT4uW9aB6cD0eF5gH1iJ2kL3mN4'

let dir: string
let clock: FakeClock
let db: RendezvousStore
let log: ReturnType<typeof memoryLogger>
let app: Hono
let ip: string
let token: string

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mzm-rv-app-'))
  clock = new FakeClock()
  db = openRendezvousStore(join(dir, 'rendezvous.db'), clock)
  log = memoryLogger()
  ip = '198.51.100.1'
  app = createRendezvousApp({ db, clock, log, getIp: () => ip })
  token = db.createToken('test').token
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

const good = (over: Record<string, unknown> = {}) => ({ peer_id: ID, url: 'https://pod.example.ts.net', key_hash: sha256Hex(KEY), ...over })

const lookup = (id = ID, key: string | null = KEY, via: 'header' | 'query' = 'header') =>
  app.request(`/api/peers/lookup/${id}${via === 'query' && key !== null ? `?key=${key}` : ''}`, {
    headers: via === 'header' && key !== null ? { 'mzm-peer-key': key } : {},
  })

describe('register + lookup', () => {
  test('round trip, key in the header or in the query', async () => {
    const res = await register(good())
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

  test('a heartbeat refreshes the record; it expires 300 s after the last one', async () => {
    await register(good())
    clock.advance(RECORD_TTL_MS - 1000)
    await register(good({ url: 'http://100.64.0.2:8765' }))
    clock.advance(RECORD_TTL_MS - 1000)
    expect(await (await lookup()).json()).toMatchObject({ url: 'http://100.64.0.2:8765' })
    clock.advance(1000)
    expect((await lookup()).status).toBe(404)
  })

  test('404 alike for unknown, expired and wrong key', async () => {
    await register(good())
    const answers = [await lookup('00000000-0000-4000-8000-000000000000'), await lookup(ID, OTHER_KEY)]
    clock.advance(RECORD_TTL_MS)
    answers.push(await lookup())
    const bodies = await Promise.all(answers.map(async (r) => [r.status, await r.text()]))
    expect(bodies[0]).toEqual([404, JSON.stringify({ error: 'not_found', message: 'no live registration for this peer id and key' })])
    expect(bodies[1]).toEqual(bodies[0]!)
    expect(bodies[2]).toEqual(bodies[0]!)
  })

  test('409 when the id is bound to another key hash', async () => {
    await register(good())
    const res = await register(good({ key_hash: sha256Hex(OTHER_KEY) }))
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

describe('register auth', () => {
  test('401 without a token, with an unknown one, and after revocation (which also drops the record)', async () => {
    for (const t of [null, 'mzr_' + 'x'.repeat(43), 'garbage']) {
      const res = await register(good(), { token: t })
      expect(res.status).toBe(401)
      expect((await res.json()).error).toBe('unauthorized')
    }
    const bearerless = await app.request('/api/peers/register', { method: 'POST', headers: { authorization: token, 'content-type': 'application/json' }, body: JSON.stringify(good()) })
    expect(bearerless.status).toBe(401)

    expect((await register(good())).status).toBe(200)
    const id = db.listTokens()[0]!.id
    db.revokeToken(id)
    expect((await lookup()).status).toBe(404)
    const again = await register(good())
    expect(again.status).toBe(401)
    expect((await again.json()).message).toContain('revoked')
  })

  test('the token never appears in a log line', async () => {
    await register(good())
    await register(good(), { token: 'mzr_' + 'y'.repeat(43) })
    await register(good({ key_hash: sha256Hex(OTHER_KEY) }))
    const all = log.lines.join('\n')
    expect(all).not.toContain(token)
    expect(all).not.toContain('y'.repeat(43))
    expect(all).not.toContain(KEY)
    expect(all).toContain('op=register peer=6356db37')
  })
})

describe('register input', () => {
  test.each([
    [{ ...good(), peer_id: 'not-a-uuid' }, 'peer_id: must be a lowercase UUID'],
    [{ ...good(), peer_id: ID.toUpperCase() }, 'peer_id: must be a lowercase UUID'],
    [{ ...good(), url: 'ftp://pod.example' }, 'url: must start with http:// or https://'],
    [{ ...good(), url: 'javascript:alert(1)' }, 'url: must start with http:// or https://'],
    [{ ...good(), url: 'https://user:pw@pod.example' }, 'url: must not contain credentials'],
    [{ ...good(), url: 'not a url' }, 'url: must not contain whitespace'],
    [{ ...good(), url: 'https://pod.example/' + 'a'.repeat(2048) }, 'url: is longer than 2048 characters'],
    // A base URL with ? or # would aim the puller's POST at another path of that host (blind SSRF).
    [{ ...good(), url: 'http://127.0.0.1:8765/api/admin?' }, 'url: must not have a query'],
    [{ ...good(), url: 'http://127.0.0.1:8765/memories?x=' }, 'url: must not have a query'],
    [{ ...good(), url: 'http://127.0.0.1:8765/x#' }, 'url: must not have a fragment'],
    [{ ...good(), url: 'http://user@127.0.0.1:8765' }, 'url: must not contain credentials'],
    [{ ...good(), key_hash: 'ABC' }, 'key_hash: must be 64 lowercase hex digits'],
    [{ ...good(), extra: 1 }, 'extra: unknown field (allowed: peer_id, url, key_hash)'],
    [{ peer_id: ID }, 'url: is required; key_hash: is required'],
    [[1, 2], 'body must be a JSON object'],
    [null, 'body must be a JSON object'],
  ])('%j → 400 naming the field', async (body, expected) => {
    const res = await register(body)
    expect(res.status).toBe(400)
    const json = await res.json()
    expect(json.error).toBe('bad_input')
    expect(json.message).toContain(expected)
  })

  test('not JSON, wrong content type', async () => {
    const notJson = await register('{nope')
    expect(notJson.status).toBe(400)
    expect((await notJson.json()).message).toBe('body is not valid JSON')
    const wrongType = await register(good(), { type: 'text/plain' })
    expect(wrongType.status).toBe(400)
    expect((await wrongType.json()).message).toBe('expected an application/json body')
  })

  test('413 for a body over 4 KiB', async () => {
    const res = await register(good({ url: 'https://pod.example/' + 'a'.repeat(5000) }))
    expect(res.status).toBe(413)
    expect(await res.json()).toEqual({ error: 'too_large', message: 'body is over 4096 bytes' })
  })

  test('503 full when the table is at its bound', async () => {
    db.close()
    db = openRendezvousStore(join(dir, 'rendezvous.db'), clock, { maxRegistrations: 1 })
    app = createRendezvousApp({ db, clock, log, getIp: () => ip })
    expect((await register(good())).status).toBe(200)
    const res = await register(good({ peer_id: '00000000-0000-4000-8000-000000000001' }))
    expect(res.status).toBe(503)
    expect((await res.json()).error).toBe('full')
  })
})

describe('rate limits', () => {
  test('failed lookups from one source are limited to 30 a minute, then 429 with Retry-After', async () => {
    await register(good())
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
    await register(good())
    for (let i = 0; i < 100; i++) expect((await lookup()).status).toBe(200)
  })

  test('failed registrations are limited separately from lookups', async () => {
    for (let i = 0; i < 30; i++) expect((await register(good(), { token: null })).status).toBe(401)
    expect((await register(good())).status).toBe(429)
    expect((await lookup()).status).toBe(404) // the lookup bucket is still full
  })
})

describe('misc routes', () => {
  test('healthz', async () => {
    const res = await app.request('/healthz')
    expect(await res.json()).toEqual({ ok: true, service: 'rendezvous', version: expect.any(String) })
  })

  test('unknown routes and methods are JSON 404', async () => {
    for (const [method, path] of [['GET', '/nope'], ['GET', '/api/peers/register'], ['DELETE', `/api/peers/lookup/${ID}`]] as const) {
      const res = await app.request(path, { method })
      expect(res.status).toBe(404)
      expect((await res.json()).error).toBe('not_found')
    }
  })
})
