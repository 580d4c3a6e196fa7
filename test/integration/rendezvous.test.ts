/**
 * Rendezvous end to end with real processes on loopback: a `mazemaker rendezvous` process, pods
 * joined to it with `mazemaker rendezvous join`, paired by handshake only (no URL typed), a
 * squatter refused with 409, a lying rendezvous refused by the pair-key signature, bad input
 * answered with clear 4xx, and `mazemaker doctor` reporting the heartbeat. Timing-dependent
 * flows (restart, outage, expiry) live in rendezvous-clock.test.ts with an injected clock.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { randomBytes } from 'node:crypto'
import { readFileSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { Server, Subprocess } from 'bun'
import { homePaths, openHome, type PublicKey } from '../../src/identity'
import { loadPodConfig, savePodConfig } from '../../src/config'
import { memoryLogger } from '../../src/lib/log'
import { MAX_BODY_BYTES, sha256Hex } from '../../src/rendezvous'
import { cleanup, mainCommand, runCli, spawnListening, spawnPod, tempHome, type PodProcess } from '../helpers/pod-process'
import { copiesFrom, identityOf, remember, syncNow } from '../helpers/federation'
import { signedRegistration } from '../../src/sync/rendezvous-client'
import { testIdentity } from '../identity/_keypair'

const WAIT_TIMEOUT_MS = 10_000

interface RendezvousProcess {
  url: string
  home: string
  proc: Subprocess<'ignore', 'pipe', 'pipe'>
  logs(): string
  stop(): Promise<number>
}

let pods: PodProcess[] = []
let services: RendezvousProcess[] = []
let servers: Server<undefined>[] = []
let homes: string[] = []

afterEach(async () => {
  for (const s of servers) await s.stop(true)
  await cleanup(pods, homes)
  await Promise.all(services.map((s) => s.stop()))
  for (const s of services) rmSync(s.home, { recursive: true, force: true })
  pods = []
  services = []
  servers = []
  homes = []
})

/** `mazemaker rendezvous --port 0` as a child process; resolves once it logs op=listen. */
async function spawnRendezvous(home = tempHome('mzm-rv-')): Promise<RendezvousProcess> {
  const { proc, url, logs } = await spawnListening([...mainCommand(), 'rendezvous', '--home', home, '--port', '0', '--host', '127.0.0.1'])
  const service: RendezvousProcess = {
    url,
    home,
    proc,
    logs,
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM')
      return await proc.exited
    },
  }
  services.push(service)
  return service
}

async function createToken(rv: RendezvousProcess): Promise<{ id: string; token: string }> {
  const res = await runCli(['rendezvous', 'token', 'create', 'test pods', '--json', '--home', rv.home])
  expect(res.code).toBe(0)
  return JSON.parse(res.stdout)
}

/** A fresh home joined to `url` with the CLI (as an operator would), not yet running. */
async function joinedHome(url: string, token: string): Promise<string> {
  const home = tempHome()
  homes.push(home)
  const res = await runCli(['rendezvous', 'join', url, '--token', token, '--home', home])
  expect(res.stderr).toBe('')
  expect(res.code).toBe(0)
  expect(res.stdout).not.toContain(token)
  return home
}

async function startPod(home?: string): Promise<PodProcess> {
  const pod = await spawnPod(home ? { home } : {})
  pods.push(pod)
  return pod
}

interface HeartbeatView {
  registered: boolean
  last_ok_at: string | null
  last_error: string | null
  advertised_url: string
}

/** Waits (bounded) until the pod's first heartbeat has an outcome; returns GET /status → rendezvous. */
async function heartbeatOf(pod: PodProcess, want: (hb: HeartbeatView) => boolean = (hb) => hb.registered): Promise<HeartbeatView> {
  const deadline = Date.now() + WAIT_TIMEOUT_MS
  for (;;) {
    const hb = (await pod.api('GET', '/status')).body.rendezvous as HeartbeatView
    if (want(hb) || Date.now() > deadline) return hb
    await Bun.sleep(10)
  }
}

/** `from` pastes `to`'s handshake URL and nothing else. */
async function addByHandshake(from: PodProcess, to: PodProcess) {
  const res = await from.api('POST', '/peer/add', { handshake_url: (await identityOf(to)).handshake_url })
  expect(res.status).toBe(201)
  return res.body.peer as { id: string; url: string; status: string }
}

async function peerView(pod: PodProcess, id: string) {
  const res = await pod.api('GET', '/peer/peers')
  return (res.body.peers as { id: string; status: string; last_error: string | null; resolved_url: string | null; memories: number }[]).find(
    (p) => p.id === id,
  )!
}

async function lookup(rvUrl: string, id: string, key: string): Promise<Response> {
  return fetch(`${rvUrl}/api/peers/lookup/${id}`, { headers: { 'mzm-peer-key': key } })
}

function register(rvUrl: string, body: unknown, token?: string): Promise<Response> {
  return fetch(`${rvUrl}/api/peers/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
}

const randomKey = () => randomBytes(32).toString('base64url')

async function rendezvousKeyOf(rvUrl: string): Promise<PublicKey> {
  const res = await fetch(`${rvUrl}/api/rendezvous`)
  expect(res.status).toBe(200)
  return ((await res.json()) as { key: PublicKey }).key
}

describe('pairing through a rendezvous', () => {
  test('handshake only, no URL typed: after one heartbeat and one sync both directions flow', async () => {
    const rv = await spawnRendezvous()
    const { token } = await createToken(rv)
    const [a, b] = await Promise.all([joinedHome(rv.url, token), joinedHome(rv.url, token)]).then((h) => Promise.all(h.map((x) => startPod(x))))
    const [idA, idB] = [(await identityOf(a!)).pod_id, (await identityOf(b!)).pod_id]

    // One heartbeat each: the rendezvous now maps each id to the URL the pod listens on.
    expect(await heartbeatOf(a!)).toMatchObject({ registered: true, last_error: null, advertised_url: a!.url })
    expect(await heartbeatOf(b!)).toMatchObject({ registered: true, last_error: null, advertised_url: b!.url })

    // Paired by pasting handshake URLs only: each side records mzm-rendezvous://<id>, not yet resolved.
    const bOnA = await addByHandshake(a!, b!)
    const aOnB = await addByHandshake(b!, a!)
    expect(bOnA).toMatchObject({ id: idB, url: `mzm-rendezvous://${idB}`, status: 'handshake-pending' })
    expect(aOnB).toMatchObject({ id: idA, url: `mzm-rendezvous://${idA}`, status: 'handshake-pending' })

    await remember(a!, 'public:from-a', 'written on A')
    await remember(b!, 'public:from-b', 'written on B')
    await remember(b!, 'diary:b', 'private on B')

    // One sync each way.
    expect((await syncNow(a!))[0]).toMatchObject({ peer: idB, ok: true, stored: 1 })
    expect((await syncNow(b!))[0]).toMatchObject({ peer: idA, ok: true, stored: 1 })
    expect(await copiesFrom(a!, idB)).toEqual([`peer:${idB}:public:from-b`])
    expect(await copiesFrom(b!, idA)).toEqual([`peer:${idA}:public:from-a`])

    expect(await peerView(a!, idB)).toMatchObject({ status: 'ready', resolved_url: b!.url, last_error: null })
    expect(await peerView(b!, idA)).toMatchObject({ status: 'ready', resolved_url: a!.url, last_error: null })
    expect((await a!.api('GET', '/peer/peers')).body.summary).toBe('1 ready · 0 handshake-pending')

    // The token is a secret: never in a pod's or the rendezvous's log, nor in the peers file.
    for (const text of [a!.logs(), b!.logs(), rv.logs(), readFileSync(join(a!.home, 'peers.toml'), 'utf8')]) expect(text).not.toContain(token)
  })

  test('a peer whose pod never registered stays handshake-pending, and is pulled once it does', async () => {
    const rv = await spawnRendezvous()
    const { token } = await createToken(rv)
    const a = await startPod(await joinedHome(rv.url, token))
    const bHome = tempHome()
    homes.push(bHome)
    let b = await startPod(bHome) // not joined yet: nothing registered under its id
    const idB = (await identityOf(b)).pod_id
    await addByHandshake(a, b)
    await addByHandshake(b, a)
    await heartbeatOf(a)

    expect((await syncNow(a))[0]).toMatchObject({ peer: idB, ok: false, error: 'handshake_pending' })
    expect(await peerView(a, idB)).toMatchObject({ status: 'handshake-pending' })
    expect((await a.api('GET', '/peer/peers')).body.summary).toBe('0 ready · 1 handshake-pending')

    // B joins and restarts: its first heartbeat is all A needs.
    await b.stop()
    expect((await runCli(['rendezvous', 'join', rv.url, '--token', token, '--home', bHome])).code).toBe(0)
    b = await startPod(bHome)
    await heartbeatOf(b)
    await remember(b, 'public:late', 'B joined late')
    expect((await syncNow(a))[0]).toMatchObject({ peer: idB, ok: true, stored: 1 })
    expect(await peerView(a, idB)).toMatchObject({ status: 'ready', resolved_url: b.url })
  })
})

describe('a handshake-pending peer says why, and what to do', () => {
  test('no URL, no rendezvous, joined but not restarted, not registered, the rendezvous down: the sync result names each, as the peer list does', async () => {
    const rv = await spawnRendezvous()
    const { token } = await createToken(rv)
    const homeA = tempHome()
    homes.push(homeA)
    let a = await startPod(homeA)
    const b = await startPod() // never registers anywhere
    const idB = (await identityOf(b)).pod_id
    const short = idB.slice(0, 8)
    await addByHandshake(a, b) // B's handshake carries no URL and A uses no rendezvous
    /** The pull's own detail, checked against the hint the peer list shows: one truth. */
    const pending = async () => {
      const res = await a.api('POST', '/peer/sync-now', { peer: idB })
      const r = res.body.results[0] as { ok: boolean; error: string; detail: string; status: string; hint: string }
      expect(r).toMatchObject({ ok: false, error: 'handshake_pending', status: 'handshake-pending' })
      expect(r.detail).toBe(r.hint)
      expect((await peerView(a, idB)) as unknown).toMatchObject({ hint: r.hint })
      return r.detail
    }
    expect(await pending()).toStartWith(`no URL for it yet: set a URL with \`mazemaker peer set ${short} --url https://…\``)

    expect((await runCli(['peer', 'set', idB, '--url', `mzm-rendezvous://${idB}`, '--home', homeA])).code).toBe(0)
    expect(await pending()).toStartWith('it is to be found through a rendezvous, but this pod has joined none: `mazemaker rendezvous join <url> --token …`')

    expect((await runCli(['rendezvous', 'join', rv.url, '--token', token, '--home', homeA])).code).toBe(0)
    expect(await pending()).toStartWith('this pod joined a rendezvous after it started: restart the pod to use it')

    await a.stop()
    a = await startPod(homeA)
    await heartbeatOf(a)
    expect(await pending()).toStartWith('the rendezvous has no address for it yet: their pod must run and have joined the same rendezvous')

    await rv.stop()
    expect(await pending()).toStartWith('the rendezvous did not answer the lookup (')
  }, 120_000)
})

describe('a rendezvous is never trusted', () => {
  test("a second pod with a valid token cannot take B's id: 409, and A still reaches the real B", async () => {
    const rv = await spawnRendezvous()
    const { token } = await createToken(rv)
    const [homeA, homeB, homeC] = await Promise.all([joinedHome(rv.url, token), joinedHome(rv.url, token), joinedHome(rv.url, token)])
    const [a, b] = await Promise.all([startPod(homeA), startPod(homeB)])
    const idB = (await identityOf(b!)).pod_id
    await heartbeatOf(b!)

    // Raw, with a valid token but not B's private key: B's key hash (the v1 body) is refused, and
    // so is B's public key with a proof the attacker made with its own private key.
    const keyB = (await identityOf(b!)).key
    const byHash = await register(rv.url, { peer_id: idB, url: 'http://127.0.0.1:1', key_hash: sha256Hex(keyB) }, token)
    expect(byHash.status).toBe(400)
    const attacker = await testIdentity(idB)
    const forged = { ...(await signedRegistration(attacker, await rendezvousKeyOf(rv.url), 'http://127.0.0.1:1', Date.now())), key: keyB }
    const byKey = await register(rv.url, forged, token)
    expect(byKey.status).toBe(401)
    expect(await byKey.json()).toMatchObject({ error: 'bad_proof' })
    // With the attacker's own key (a valid proof), the id stays bound to B's key: 409.
    const own = await register(rv.url, await signedRegistration(attacker, await rendezvousKeyOf(rv.url), 'http://127.0.0.1:1', Date.now()), token)
    expect(own.status).toBe(409)
    expect(await own.json()).toMatchObject({ error: 'conflict' })

    // A whole pod claiming B's id (its own keys, pod.toml edited to B's id) heartbeats into a 409.
    const cfg = loadPodConfig(homePaths(homeC).podToml)
    savePodConfig(homePaths(homeC).podToml, { ...cfg, pod_id: idB as typeof cfg.pod_id })
    const c = await startPod(homeC)
    const hbC = await heartbeatOf(c, (hb) => hb.last_error !== null)
    expect(hbC.registered).toBe(false)
    expect(hbC.last_error).toStartWith('http_409: ')
    expect(hbC.last_error).toContain('bound to another key')
    expect(c.logs()).toMatch(/op=rendezvous err=http_409/)

    // The binding held: lookups with B's key still name B, and A pulls from the real B.
    const found = await lookup(rv.url, idB, (await identityOf(b!)).key)
    expect((await found.json()).url).toBe(b!.url)
    await addByHandshake(a!, b!)
    await addByHandshake(b!, a!)
    await remember(b!, 'public:real-b', 'only the real B has this')
    await remember(c, 'public:squatter', 'the squatter')
    expect((await syncNow(a!))[0]).toMatchObject({ ok: true, stored: 1 })
    expect(await copiesFrom(a!, idB)).toEqual([`peer:${idB}:public:real-b`])
  })

  test("a lying rendezvous (a third pod's URL, then an impostor): A refuses it (unauthorized, bad_signature), stores nothing, status says why", async () => {
    // The liar: accepts every heartbeat and answers every lookup with whatever `target` is.
    let target = ''
    const liarKey = (await testIdentity(crypto.randomUUID())).publicKey
    const liar = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      async fetch(req) {
        const url = new URL(req.url)
        if (url.pathname === '/api/rendezvous') return Response.json({ key: liarKey, version: 'liar' })
        if (req.method === 'POST' && url.pathname === '/api/peers/register') {
          const body = (await req.json()) as { peer_id: string; url: string }
          return Response.json({ peer_id: body.peer_id, url: body.url, expires_at: new Date(Date.now() + 300_000).toISOString() })
        }
        const m = /^\/api\/peers\/lookup\/(.+)$/.exec(url.pathname)
        if (m) return Response.json({ peer_id: m[1], url: target, expires_at: new Date(Date.now() + 300_000).toISOString() })
        // Posing as a pod: a well-formed sync page under the looked-up id, with a made-up signature.
        const posing = /^\/fake-pod\/([^/]+)\/peer\/sync$/.exec(url.pathname)
        if (req.method === 'POST' && posing) {
          const page = {
            pod_id: posing[1],
            cursor: 'c1',
            more: false,
            memories: [
              {
                id: crypto.randomUUID(),
                label: 'public:planted',
                content: 'planted by the liar',
                created_at: new Date().toISOString(),
                updated_at: new Date().toISOString(),
              },
            ],
          }
          return Response.json(page, { headers: { 'mzm-signature': randomBytes(32).toString('base64url') } })
        }
        return Response.json({ error: 'not_found' }, { status: 404 })
      },
    })
    servers.push(liar)
    const liarUrl = `http://127.0.0.1:${liar.port}`

    const homeA = await joinedHome(liarUrl, 'mzr_' + randomKey())
    const [a, b, c] = await Promise.all([startPod(homeA), startPod(), startPod()])
    const idB = (await identityOf(b!)).pod_id
    // A pairs B by handshake (so B resolves through the liar); C is a genuine peer of A's too,
    // the worst case: a pod that knows A and holds shareable memories.
    await addByHandshake(a!, b!)
    const bHs = await b!.api('POST', '/peer/add', { handshake_url: (await identityOf(a!)).handshake_url, direct_url: a!.url })
    expect(bHs.status).toBe(201)
    const cOnA = await a!.api('POST', '/peer/add', { handshake_url: (await identityOf(c!)).handshake_url, direct_url: c!.url, sync: false })
    expect(cOnA.status).toBe(201)
    expect((await c!.api('POST', '/peer/add', { handshake_url: (await identityOf(a!)).handshake_url, direct_url: a!.url })).status).toBe(201)
    await remember(b!, 'public:from-b', 'B')
    await remember(c!, 'public:from-c', 'C must not arrive as B')

    // 0. The liar names a URL with a query or fragment, which would turn the route A appends into
    // a query and aim A's POST at another path of that host (blind SSRF): A never uses it.
    const trapHits: string[] = []
    const trap = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch(req) {
        trapHits.push(`${req.method} ${new URL(req.url).pathname}`)
        return new Response('ok')
      },
    })
    servers.push(trap)
    for (const bad of [`http://127.0.0.1:${trap.port}/admin/reset?`, `http://127.0.0.1:${trap.port}/admin/reset#`]) {
      target = bad
      expect((await syncNow(a!, idB))[0]).toMatchObject({ peer: idB, ok: false, stored: 0 })
    }
    expect(trapHits).toEqual([])

    // 1. The liar names C: C cannot verify a request signed with A↔B's pair key → unauthorized.
    target = c!.url
    const r1 = (await syncNow(a!, idB))[0]!
    expect(r1).toMatchObject({ peer: idB, ok: false, error: 'unauthorized', stored: 0 })
    const v1 = await peerView(a!, idB)
    // Never pulled from B yet, refused: it looks like B has not pasted A's handshake (awaiting-peer).
    expect(v1.status).toBe('awaiting-peer')
    expect(v1.last_error).toStartWith('they have not added this pod yet')
    expect(v1.memories).toBe(0)

    // 2. The liar names itself posing as B: its answer carries no valid pair-key signature → bad_signature.
    target = `${liarUrl}/fake-pod/${idB}`
    // The resolver caches the first answer for 240 s; a restart of A forgets it.
    await a!.stop()
    const a2 = await startPod(homeA)
    const r2 = (await syncNow(a2, idB))[0]!
    expect(r2).toMatchObject({ peer: idB, ok: false, error: 'bad_signature', stored: 0 })
    expect((await peerView(a2, idB)).last_error).toStartWith('bad_signature: ')
    expect(a2.logs()).toMatch(/op=sync err=bad_signature/)

    // Nothing from anyone was stored on A.
    const held = await a2.api('GET', `/memories?prefix=${encodeURIComponent('peer:')}&limit=500`)
    expect(held.body.memories).toEqual([])
    expect(await copiesFrom(a2, idB)).toEqual([])
  })
})

describe('bad input, end to end', () => {
  test('the service answers malformed ids, non-http URLs, oversized bodies and missing/revoked tokens with a clear 4xx', async () => {
    const rv = await spawnRendezvous()
    const { id: tokenId, token } = await createToken(rv)
    // The malformed requests go under their own token: each counts toward its 10 registrations/s.
    const { token: probeToken } = await createToken(rv)
    const id = crypto.randomUUID()
    const pod = await testIdentity(id)
    const key = pod.publicKey
    const good = await signedRegistration(pod, await rendezvousKeyOf(rv.url), 'https://pod.example:8765', Date.now())
    const expectError = async (res: Response, status: number, error: string, message: RegExp) => {
      expect(res.status).toBe(status)
      const body = (await res.json()) as { error: string; message: string }
      expect(body.error).toBe(error)
      expect(body.message).toMatch(message)
    }

    // Malformed ids, in the lookup path and in the register body.
    for (const bad of ['not-a-uuid', id.toUpperCase(), `${id}x`, '..%2F..%2Fetc']) {
      await expectError(await lookup(rv.url, bad, key), 400, 'bad_input', /peer id in the path must be a lowercase UUID/)
    }
    await expectError(await register(rv.url, { ...good, peer_id: 'nope' }, probeToken), 400, 'bad_input', /peer_id: must be a lowercase UUID/)
    await expectError(await lookup(rv.url, id, 'short'), 400, 'bad_input', /key must be a 43-character base64url public key/)
    await expectError(await fetch(`${rv.url}/api/peers/lookup/${id}`), 400, 'bad_input', /missing key/)

    // URLs that are not http(s), or that carry credentials.
    for (const url of ['ftp://pod.example', 'mzm-rendezvous://' + id, 'javascript:alert(1)', '/relative']) {
      await expectError(await register(rv.url, { ...good, url }, probeToken), 400, 'bad_input', /url: must start with http:\/\/ or https:\/\//)
    }
    await expectError(await register(rv.url, { ...good, url: 'http://user:pw@pod.example' }, probeToken), 400, 'bad_input', /url: must not contain credentials/)
    // A query or fragment would turn the route the puller appends into a query (blind SSRF).
    await expectError(await register(rv.url, { ...good, url: 'http://127.0.0.1:8765/peer/add?' }, probeToken), 400, 'bad_input', /url: must not have a query/)
    await expectError(await register(rv.url, { ...good, url: 'http://127.0.0.1:8765/x#' }, probeToken), 400, 'bad_input', /url: must not have a fragment/)
    // Oversized body.
    await expectError(
      await register(rv.url, { ...good, url: 'https://pod.example/' + 'a'.repeat(MAX_BODY_BYTES) }, probeToken),
      413,
      'too_large',
      /body is over/,
    )
    // A proof for another URL (a captured registration replayed elsewhere), and a stale one.
    await expectError(await register(rv.url, { ...good, url: 'https://attacker.example:8765' }, probeToken), 401, 'bad_proof', /proof does not verify/)
    const stale = await signedRegistration(pod, await rendezvousKeyOf(rv.url), 'https://pod.example:8765', Date.now() - 301_000)
    await expectError(await register(rv.url, stale, probeToken), 401, 'clock_skew', /ts is \d+ s away/)
    // Missing, unknown and revoked tokens.
    await expectError(await register(rv.url, good), 401, 'unauthorized', /missing Authorization/)
    await expectError(await register(rv.url, good, 'mzr_' + randomKey()), 401, 'unauthorized', /unknown or revoked/)
    expect((await register(rv.url, good, token)).status).toBe(200)
    expect((await lookup(rv.url, id, key)).status).toBe(200)
    const revoked = await runCli(['rendezvous', 'token', 'revoke', tokenId, '--home', rv.home])
    expect(revoked.code).toBe(0)
    await expectError(await register(rv.url, good, token), 401, 'unauthorized', /unknown or revoked/)
    // Revocation also dropped what the token registered.
    expect((await lookup(rv.url, id, key)).status).toBe(404)
    expect(rv.logs()).not.toContain(token)
  })

  test('`rendezvous join` refuses a non-http URL, credentials in the URL and a bad token, and leaves pod.toml alone', async () => {
    const home = tempHome()
    homes.push(home)
    await openHome(home, { log: memoryLogger() })
    const podToml = homePaths(home).podToml
    const before = readFileSync(podToml, 'utf8')
    const cases: [string[], RegExp][] = [
      [['ftp://rv.example', '--token', 't'], /rendezvous URL must be http\(s\)/],
      [['mzm-rendezvous://rv.example', '--token', 't'], /rendezvous URL must be http\(s\)/],
      [['rv.example', '--token', 't'], /rendezvous URL must be http\(s\)/],
      [['http://user:pw@rv.example', '--token', 't'], /credentials/],
      [['https://rv.example'], /Missing required argument: --token/],
      [['https://rv.example', '--token='], /--token/],
      [['https://rv.example', '--token', 'two words'], /--token/],
    ]
    for (const [args, message] of cases) {
      const res = await runCli(['rendezvous', 'join', ...args, '--home', home])
      expect({ args, code: res.code }).toEqual({ args, code: 2 })
      expect(res.stderr).toMatch(message)
      expect(res.stderr).not.toContain('fix it by hand') // nothing was written, so nothing to fix
      expect(readFileSync(podToml, 'utf8')).toBe(before)
    }

    const ok = await runCli(['rendezvous', 'join', 'https://rv.example/base', '--token', 'mzr_secret', '--home', home])
    expect(ok.code).toBe(0)
    expect(ok.stdout).not.toContain('mzr_secret')
    expect(loadPodConfig(podToml).rendezvous).toEqual({ url: 'https://rv.example/base', token: 'mzr_secret' })
    expect(statSync(podToml).mode & 0o777).toBe(0o600)
  })

  test('a pod.toml whose [rendezvous] url is not http(s) stops the pod with a message naming it', async () => {
    const home = tempHome()
    homes.push(home)
    await openHome(home, { log: memoryLogger() })
    const podToml = homePaths(home).podToml
    const text = readFileSync(podToml, 'utf8') + '\n[rendezvous]\nurl = "mzm-rendezvous://rv.example"\ntoken = "mzr_x"\n'
    await Bun.write(podToml, text)
    const err = await spawnPod({ home }).then(
      (p) => {
        pods.push(p)
        return ''
      },
      (e: Error) => e.message,
    )
    expect(err).toMatch(/pod\.toml at .* is invalid \(rendezvous\.url: must start with http:\/\/ or https:\/\/\)/)
  })
})

describe('mazemaker doctor', () => {
  test('reports not configured, a join the running pod has not applied, then registered + last heartbeat + advertised URL; a revoked token is a FAIL with the reason', async () => {
    const rv = await spawnRendezvous()
    const { id: tokenId, token } = await createToken(rv)
    const home = tempHome()
    homes.push(home)
    let pod = await startPod(home)
    const doctor = async () => {
      const res = await runCli(['doctor', '--json', '--home', home, '--port', new URL(pod.url).port])
      const out = JSON.parse(res.stdout) as { ok: boolean; checks: { name: string; ok: boolean; detail: string }[] }
      return {
        code: res.code,
        ok: out.ok,
        rendezvous: out.checks.find((c) => c.name === 'rendezvous')!,
        advertise: out.checks.find((c) => c.name === 'advertise')!,
      }
    }
    expect((await doctor()).rendezvous).toMatchObject({ ok: true, detail: 'not configured (peers need direct URLs)' })

    // Joined while running: pod.toml says so, the running pod does not; doctor says to restart.
    const joined = await runCli(['rendezvous', 'join', rv.url, '--token', token, '--home', home])
    expect(joined.code).toBe(0)
    const stale = await doctor()
    expect(stale.code).toBe(1)
    expect(stale.rendezvous).toEqual({
      name: 'rendezvous',
      ok: false,
      detail: `configured (${rv.url}) but the running pod started without it; restart the pod to start heartbeats`,
    })

    await pod.stop()
    pod = await startPod(home)
    await heartbeatOf(pod)
    const port = new URL(pod.url).port
    // Registered, but as a loopback URL no other machine can reach: the advertise check fails loudly.
    const loopback = await doctor()
    expect(loopback.code).toBe(1)
    expect(loopback.rendezvous.ok).toBe(true)
    expect(loopback.advertise).toMatchObject({ ok: false, detail: expect.stringContaining(`registers ${pod.url} at the rendezvous`) })
    expect(loopback.rendezvous.detail).toStartWith(`registered at ${rv.url} as ${pod.url}; last heartbeat `)
    // Advertising a name other machines resolve makes it healthy; the rendezvous is told at once.
    const named = `http://alca.test:${port}`
    expect((await runCli(['advertise', 'add', named, '--home', home])).code).toBe(0)
    const hb2 = await heartbeatOf(pod, (h) => h.registered && h.advertised_url === named)
    expect(hb2.advertised_url).toBe(named)
    const healthy = await doctor()
    expect(healthy.code).toBe(0)
    expect(healthy.advertise).toMatchObject({ ok: true, detail: `advertises ${named}` })
    expect(healthy.rendezvous.ok).toBe(true)
    // Another beat may land between hb2 and doctor (the advertise change re-registers at once), so the time is not pinned.
    expect(healthy.rendezvous.detail).toStartWith(`registered at ${rv.url} as ${named}; last heartbeat `)
    expect(healthy.rendezvous.detail).not.toContain(token)

    // Human-readable form says the same.
    const text = await runCli(['doctor', '--home', home, '--port', port])
    expect(text.stdout).toMatch(
      new RegExp(`ok\\s+rendezvous\\s+registered at ${rv.url.replace(/\./g, '\\.')} as ${named.replace(/\./g, '\\.')}; last heartbeat \\S+`),
    )

    // Revoke the token; the pod's next heartbeat (here: on restart) is refused and doctor says why.
    expect((await runCli(['rendezvous', 'token', 'revoke', tokenId, '--home', rv.home])).code).toBe(0)
    await pod.stop()
    pod = await startPod(home)
    await heartbeatOf(pod, (h) => h.last_error !== null)
    const sick = await doctor()
    expect(sick.code).toBe(1)
    const check = sick.rendezvous
    expect(check.ok).toBe(false)
    expect(check.detail).toMatch(new RegExp(`^not registered at ${rv.url.replace(/\./g, '\\.')}: http_401: .*token unknown or revoked`))
    expect(check.detail).not.toContain(token)
  })
})
