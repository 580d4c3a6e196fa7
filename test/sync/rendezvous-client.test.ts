import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FakeClock } from '../../src/lib/clock'
import { PeerError } from '../../src/lib/errors'
import { memoryLogger } from '../../src/lib/log'
import { openRendezvousStore, startRendezvous, type RendezvousService } from '../../src/rendezvous'
import type { Identity } from '../../src/identity'
import { createHeartbeat, createRendezvousClient, createResolver, signedRegistration, type RendezvousClient } from '../../src/sync/rendezvous-client'
import { ID_A, ID_B, testIdentity } from '../identity/_keypair'

const POD = ID_A
const PEER = ID_B
let pod: Identity
let peer: Identity
let POD_KEY: string
let PEER_KEY: string

let dir: string
let home: string
let clock: FakeClock
let service: RendezvousService | null
let port: number
let token: string
let tokenId: string
let requests: Request[]

/** fetch that records what the client sends (URL, headers) before sending it for real. */
const recordingFetch = ((input: RequestInfo | URL, init?: RequestInit) => {
  requests.push(new Request(input, init))
  return fetch(input, init)
}) as typeof fetch

async function up(): Promise<void> {
  service = await startRendezvous({ home, port, host: '127.0.0.1', clock, log: memoryLogger('warn') })
  port = Number(new URL(service.url).port)
}

async function down(): Promise<void> {
  await service?.close()
  service = null
}

function withStore<T>(fn: (db: ReturnType<typeof openRendezvousStore>) => T): T {
  const db = openRendezvousStore(join(home, 'rendezvous.db'), clock)
  try {
    return fn(db)
  } finally {
    db.close()
  }
}

function client(over: { token?: string; fetch?: typeof fetch } = {}): RendezvousClient {
  return createRendezvousClient({ url: `http://127.0.0.1:${port}/`, token: over.token ?? token, fetch: over.fetch ?? recordingFetch })
}

/** Yields to the event loop until `cond` holds (real I/O is in flight; nothing waits on time). */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 100_000 && !cond(); i++) await new Promise((r) => setImmediate(r))
  if (!cond()) throw new Error('condition never held')
}

/** Registers `who` at `url` through `c`, signed as the heartbeat does. */
async function registerAs(who: Identity, url: string, c: RendezvousClient = client()): Promise<void> {
  await c.register(await signedRegistration(who, await c.rendezvousKey(), url, clock.now()))
}

const keyFetches = () => requests.filter((r) => r.url.endsWith('/api/rendezvous')).length

beforeEach(async () => {
  pod = await testIdentity(POD)
  peer = await testIdentity(PEER)
  POD_KEY = pod.publicKey
  PEER_KEY = peer.publicKey
  dir = mkdtempSync(join(tmpdir(), 'mzm-rv-client-'))
  home = join(dir, 'rv')
  clock = new FakeClock()
  requests = []
  port = 0
  await up()
  ;({ token, id: tokenId } = withStore((db) => db.createToken('pods')))
})

afterEach(async () => {
  await down()
  rmSync(dir, { recursive: true, force: true })
})

describe('signedRegistration', () => {
  test('is the contract body: our id, url, public key, unix seconds and a 43-char proof', async () => {
    const body = await signedRegistration(pod, await client().rendezvousKey(), 'https://pod.example', clock.now())
    expect(body).toEqual({
      peer_id: POD,
      url: 'https://pod.example',
      key: POD_KEY,
      ts: Math.floor(clock.now() / 1000),
      proof: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    })
  })
})

describe('createRendezvousClient', () => {
  test('register then lookup; the key travels in Mzm-Peer-Key, never in the URL; the token only on register', async () => {
    const c = client()
    await registerAs(peer, 'https://peer.example', c)
    expect(await c.lookup(PEER, PEER_KEY)).toBe('https://peer.example')
    const [info, reg, look] = requests
    expect(info!.url).toBe(`http://127.0.0.1:${port}/api/rendezvous`)
    expect(info!.headers.get('authorization')).toBeNull()
    expect(reg!.headers.get('authorization')).toBe(`Bearer ${token}`)
    expect(look!.url).toBe(`http://127.0.0.1:${port}/api/peers/lookup/${PEER}`)
    expect(look!.headers.get('mzm-peer-key')).toBe(PEER_KEY)
    expect(look!.headers.get('authorization')).toBeNull()
  })

  test('lookup is null on 404 (unknown or wrong key)', async () => {
    const c = client()
    expect(await c.lookup(PEER, PEER_KEY)).toBeNull()
    await registerAs(peer, 'https://peer.example', c)
    expect(await c.lookup(PEER, POD_KEY)).toBeNull()
  })

  test('HTTP failures are PeerError http_<status> with the service message and without the token', async () => {
    const bad = client({ token: 'mzr_' + 'q'.repeat(43) })
    const err = await registerAs(peer, 'https://peer.example', bad).catch((e) => e)
    expect(err).toBeInstanceOf(PeerError)
    expect(err.code).toBe('http_401')
    expect(err.message).toContain('token unknown or revoked')
    expect(err.message).not.toContain('q'.repeat(43))

    const c = client()
    await registerAs(peer, 'https://peer.example', c)
    const squatter = await testIdentity(PEER) // its own key pair, claiming PEER's id
    const conflict = await registerAs(squatter, 'https://squat.example', c).catch((e) => e)
    expect(conflict.code).toBe('http_409')
    expect(conflict.remoteCode).toBe('conflict')
    const badInput = await c.lookup('nope', PEER_KEY).catch((e) => e)
    expect(badInput.code).toBe('http_400')
  })

  test('an unreachable service or a timeout is request_failed', async () => {
    await down()
    const err = await client()
      .lookup(PEER, PEER_KEY)
      .catch((e) => e)
    expect(err).toBeInstanceOf(PeerError)
    expect(err.code).toBe('request_failed')

    const hanging = ((_: RequestInfo | URL, init?: RequestInit) =>
      new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)))) as typeof fetch
    const slow = createRendezvousClient({ url: 'http://127.0.0.1:9', token, fetch: hanging, timeoutMs: 1 })
    const timedOut = await slow.lookup(PEER, PEER_KEY).catch((e) => e)
    expect(timedOut.code).toBe('request_failed')
    expect(timedOut.message).toContain('timed out after 1 ms')
  })

  test.each([
    'file:///etc/passwd',
    // ? or # would turn the route the puller appends into a query: a POST to another local path (blind SSRF).
    'http://127.0.0.1:8765/peer/add?',
    'http://127.0.0.1:8765/memories?x=',
    'http://127.0.0.1:8765/admin#',
    'http://user:pw@127.0.0.1:8765',
    'gopher://127.0.0.1:6379/_',
  ])('a lying rendezvous naming %s: bad_response, never used', async (url) => {
    const liar = (async () => Response.json({ peer_id: PEER, url, expires_at: 'x' })) as unknown as typeof fetch
    const err = await createRendezvousClient({ url: 'http://rv', token, fetch: liar })
      .lookup(PEER, PEER_KEY)
      .catch((e) => e)
    expect(err).toBeInstanceOf(PeerError)
    expect(err.code).toBe('bad_response')
  })

  test('a rendezvous key answer that is not a 43-char key is bad_response', async () => {
    for (const answer of [{ key: 'short', version: '1' }, { version: '1' }, 'nope']) {
      const liar = (async () => Response.json(answer)) as unknown as typeof fetch
      const err = await createRendezvousClient({ url: 'http://rv', token, fetch: liar })
        .rendezvousKey()
        .catch((e) => e)
      expect(err).toBeInstanceOf(PeerError)
      expect(err.code).toBe('bad_response')
    }
  })

  test('a lookup answer that is not a registration of that peer is bad_response', async () => {
    const other = (async () => Response.json({ peer_id: POD, url: 'https://x', expires_at: 'x' })) as unknown as typeof fetch
    expect(
      (
        await createRendezvousClient({ url: 'http://rv', token, fetch: other })
          .lookup(PEER, PEER_KEY)
          .catch((e) => e)
      ).code,
    ).toBe('bad_response')
  })
})

describe('createHeartbeat', () => {
  const make = (log = memoryLogger()) => ({
    log,
    hb: createHeartbeat({ client: client(), identity: pod, advertiseUrl: () => 'http://100.64.0.5:8765', clock, log }),
  })

  test('keeps going across an outage and resumes, logging once per state change', async () => {
    const { hb, log } = make()
    await hb.beat()
    expect(hb.state()).toEqual({
      registered: true,
      last_ok_at: new Date(clock.now()).toISOString(),
      last_error: null,
      advertised_url: 'http://100.64.0.5:8765',
    })
    expect(await client().lookup(POD, POD_KEY)).toBe('http://100.64.0.5:8765')
    const okAt = hb.state().last_ok_at

    await down()
    clock.advance(60_000)
    await hb.beat()
    await hb.beat()
    await hb.beat()
    expect(hb.state()).toMatchObject({ registered: false, last_ok_at: okAt, last_error: expect.stringMatching(/^request_failed: /) })

    await up()
    clock.advance(60_000)
    await hb.beat()
    expect(hb.state()).toMatchObject({ registered: true, last_error: null, last_ok_at: new Date(clock.now()).toISOString() })
    await hb.beat()

    const lines = log.lines.map((l) => l.replace(/^ts=\S+ /, ''))
    expect(lines.filter((l) => l.startsWith('level=warn'))).toHaveLength(1)
    expect(lines.filter((l) => l.startsWith('level=warn'))[0]).toContain('op=rendezvous err=request_failed')
    expect(lines.filter((l) => l.startsWith('level=debug') && l.includes('err=request_failed'))).toHaveLength(2)
    expect(lines.filter((l) => l.startsWith('level=info'))).toEqual([
      'level=info op=rendezvous msg="registered as http://100.64.0.5:8765"',
      'level=info op=rendezvous msg="registered again as http://100.64.0.5:8765"',
    ])
    expect(log.lines.join('\n')).not.toContain(token)
  })

  test('a revoked token shows as http_401 with the reason; a different failure warns again', async () => {
    const { hb, log } = make()
    await down()
    await hb.beat()
    await up()
    withStore((db) => db.revokeToken(tokenId))
    await hb.beat()
    expect(hb.state().last_error).toMatch(/^http_401: .*token unknown or revoked/)
    expect(log.lines.filter((l) => l.includes('level=warn')).map((l) => /err=(\S+)/.exec(l)?.[1])).toEqual(['request_failed', 'http_401'])
    expect(log.lines.join('\n')).not.toContain(token)
  })

  test('two beats in one second, and a restarted pod beating in the second its predecessor did: each signs a newer ts and registers', async () => {
    const { hb } = make()
    await hb.beat()
    await hb.beat() // same clock second: signed one second on
    expect(hb.state()).toMatchObject({ registered: true, last_error: null })
    const restarted = make().hb // a new process: knows no ts of its own yet
    await restarted.beat()
    expect(restarted.state()).toMatchObject({ registered: true, last_error: null })
    const registers = requests.filter((r) => r.url.endsWith('/api/peers/register')).length
    expect(registers).toBe(4) // the restarted pod's stale first try, then its retry after last_ts
  })

  test('an advertised URL with a query, fragment or credentials is never registered', async () => {
    for (const url of ['http://100.64.0.5:8765/x?', 'http://100.64.0.5:8765/#', 'http://u:secret@100.64.0.5:8765']) {
      const log = memoryLogger()
      const hb = createHeartbeat({ client: client(), identity: pod, advertiseUrl: () => url, clock, log })
      await hb.beat()
      expect(hb.state()).toMatchObject({
        registered: false,
        last_error: expect.stringMatching(/^bad_input: our advertised URL must not .*; fix advertise in pod\.toml \(mazemaker advertise list\)$/),
      })
      expect(log.lines.join('\n')).not.toContain('secret')
    }
    expect(requests).toHaveLength(0)
  })

  test('fetches the rendezvous key once and signs every heartbeat with it', async () => {
    const { hb } = make()
    for (let i = 0; i < 3; i++) {
      await hb.beat()
      clock.advance(60_000)
    }
    expect(hb.state().registered).toBe(true)
    expect(keyFetches()).toBe(1)
    expect(requests.filter((r) => r.url.endsWith('/register'))).toHaveLength(3)
  })

  test('when the rendezvous key changed (a new rendezvous home), the next beat fetches it and signs again', async () => {
    const { hb, log } = make()
    await hb.beat()
    await down()
    unlinkSync(join(home, 'rendezvous.key')) // the operator lost the key: a new pair on restart
    await up()
    clock.advance(60_000)
    await hb.beat()
    expect(hb.state()).toMatchObject({ registered: true, last_error: null })
    expect(keyFetches()).toBe(2)
    // One refused registration (bad_proof under the old key), then the one signed with the new key.
    expect(requests.filter((r) => r.url.endsWith('/register'))).toHaveLength(3)
    expect(log.lines.some((l) => l.includes('level=info') && l.includes('the rendezvous key changed'))).toBe(true)
    expect(await client().lookup(POD, POD_KEY)).toBe('http://100.64.0.5:8765')
  })

  test('a bad_proof under an unchanged key is an error (http_401 bad_proof), not a loop', async () => {
    let registers = 0
    const refusing = (async (input: RequestInfo | URL) => {
      const url = String(input)
      if (url.endsWith('/api/rendezvous')) return Response.json({ key: PEER_KEY, version: 'x' })
      registers++
      return Response.json({ error: 'bad_proof', message: 'proof does not verify' }, { status: 401 })
    }) as unknown as typeof fetch
    const log = memoryLogger()
    const hb = createHeartbeat({
      client: createRendezvousClient({ url: 'http://rv', token, fetch: refusing }),
      identity: pod,
      advertiseUrl: () => 'http://a:1',
      clock,
      log,
    })
    await hb.beat()
    expect(registers).toBe(1)
    expect(hb.state()).toMatchObject({ registered: false, last_error: expect.stringMatching(/^http_401: .*bad_proof: proof does not verify/) })
  })

  test('a stale clock shows as http_401 clock_skew with what to fix', async () => {
    const skewed = new FakeClock(clock.now() - 600_000)
    const log = memoryLogger()
    const hb = createHeartbeat({ client: client(), identity: pod, advertiseUrl: () => 'http://a:1', clock: skewed, log })
    await hb.beat()
    expect(hb.state().last_error).toMatch(/^http_401: .*clock_skew: ts is 600 s away from the rendezvous clock/)
  })

  test('start registers at once, then exactly once per interval; stop ends the loop', async () => {
    const { hb } = make()
    const registrations = () => requests.filter((r) => r.url.endsWith('/register')).length
    hb.start()
    hb.start() // idempotent
    await until(() => clock.sleeping === 1)
    expect(registrations()).toBe(1)
    clock.advance(59_999)
    await new Promise((r) => setImmediate(r))
    expect(registrations()).toBe(1)
    clock.advance(1)
    await until(() => registrations() === 2 && clock.sleeping === 1)
    clock.advance(60_000)
    await until(() => registrations() === 3 && clock.sleeping === 1)
    await hb.stop()
    expect(clock.sleeping).toBe(0)
    clock.advance(10 * 60_000)
    expect(registrations()).toBe(3)
  })

  test('the loop survives an outage without stopping', async () => {
    const { hb } = make()
    await down()
    hb.start()
    await until(() => clock.sleeping === 1)
    expect(hb.state().registered).toBe(false)
    await up()
    clock.advance(60_000)
    await until(() => hb.state().registered)
    await hb.stop()
  })

  test('stop cuts a request in flight short and records no failure', async () => {
    let started = false
    const hanging = ((_: RequestInfo | URL, init?: RequestInit) => {
      started = true
      return new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)))
    }) as typeof fetch
    const log = memoryLogger()
    const hb = createHeartbeat({ client: client({ fetch: hanging }), identity: pod, advertiseUrl: () => 'http://a:1', clock, log })
    hb.start()
    await until(() => started)
    await hb.stop()
    expect(hb.state().last_error).toBeNull()
    expect(log.lines.filter((l) => l.includes('level=warn'))).toHaveLength(0)
  })
})

describe('createResolver', () => {
  const registerPeer = (url: string) => registerAs(peer, url)

  test('caches for 240 s, then looks up again', async () => {
    await registerPeer('https://one.example')
    const resolver = createResolver({ client: client(), clock })
    expect(await resolver.resolve(PEER, PEER_KEY)).toBe('https://one.example')
    clock.advance(1_000) // a registration must be signed later than the last accepted one
    await registerPeer('https://two.example')
    clock.advance(238_999)
    expect(await resolver.resolve(PEER, PEER_KEY)).toBe('https://one.example')
    clock.advance(1)
    expect(await resolver.resolve(PEER, PEER_KEY)).toBe('https://two.example')
    expect(requests.filter((r) => r.url.includes('/lookup/'))).toHaveLength(2)
  })

  test('falls back to the last confirmed URL when the service is down or answers 404; null if none was confirmed', async () => {
    const resolver = createResolver({ client: client(), clock })
    expect(await resolver.resolve(PEER, PEER_KEY)).toBeNull()
    await registerPeer('https://one.example')
    expect(await resolver.resolve(PEER, PEER_KEY)).toBe('https://one.example')

    clock.advance(301_000) // record expired: 404
    // Resolved but never confirmed by a verified pull (a lying rendezvous could have named it): no fallback.
    expect(await resolver.resolve(PEER, PEER_KEY)).toBeNull()
    resolver.confirm(PEER, PEER_KEY, 'https://one.example')
    expect(await resolver.resolve(PEER, PEER_KEY)).toBe('https://one.example')
    await down()
    expect(await resolver.resolve(PEER, PEER_KEY)).toBe('https://one.example')
    expect(await resolver.resolve(PEER, POD_KEY)).toBeNull() // a URL found under another key is not reused
    await up()
    await registerPeer('https://two.example')
    expect(await resolver.resolve(PEER, PEER_KEY)).toBe('https://two.example')
  })

  test('concurrent resolves of one peer share a single lookup', async () => {
    await registerPeer('https://one.example')
    const resolver = createResolver({ client: client(), clock })
    const urls = await Promise.all([1, 2, 3, 4].map(() => resolver.resolve(PEER, PEER_KEY)))
    expect(urls).toEqual(Array(4).fill('https://one.example'))
    expect(requests.filter((r) => r.url.includes('/lookup/'))).toHaveLength(1)
  })
})
