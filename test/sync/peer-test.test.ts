/**
 * `peer test`: success, and each failure with its step and fix — no URL, nothing
 * listening, a black hole, another pod at the URL, a proxy refusing without headers, a peer
 * that has not added us, clocks too far apart, an untrusted TLS certificate. Real pods in
 * process on 127.0.0.1 (the route the CLI calls), and the CLI once for its output and exit code.
 */
import { expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { FakeClock, MINUTE_MS } from '../../src/lib/clock'
import type { Pod } from '../../src/pod'
import type { PeerTestReport } from '../../src/api/types'
import { disposablePod } from '../helpers/in-process-pod'
import { runCli, spawnPod, tempDir } from '../helpers/pod-process'
import { makeTestCa } from '../network/test-ca'

const pod = (clock?: FakeClock) => disposablePod({ autoSync: false, connectTimeoutMs: 300, clock })

async function peerTest(from: Pod, peerId: string): Promise<PeerTestReport> {
  const res = await fetch(`${from.url}/peer/peers/${peerId}/test`, { method: 'POST', headers: { authorization: `Bearer ${from.home.identity.adminToken}` } })
  expect(res.status).toBe(200)
  return (await res.json()) as PeerTestReport
}

/** b knows a at `url`; a knows b unless `oneSided`. */
function pairAt(a: Pod, b: Pod, url: string | string[], oneSided = false) {
  b.home.peers.add({ id: a.home.identity.podId, key: a.home.identity.publicKey, url })
  if (!oneSided) a.home.peers.add({ id: b.home.identity.podId, key: b.home.identity.publicKey, url: '' })
}

const failed = (r: PeerTestReport) => r.steps.find((s) => !s.ok)

function deadPort(): number {
  const s = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('') })
  const port = s.port!
  s.stop(true)
  return port
}

test('success: every step ok, and nothing is stored', async () => {
  await using a = await pod()
  await using b = await pod()
  pairAt(a, b, a.url)
  a.store.remember({ label: 'public:x', content: 'y' })
  const r = await peerTest(b, a.id)
  expect(r.ok).toBe(true)
  expect(r.steps.map((s) => [s.step, s.ok])).toEqual([
    ['resolve', true],
    ['connect', true],
    ['tls', true],
    ['identity', true],
    ['signed', true],
    ['clock', true],
  ])
  expect(b.store.countPeerCopies(a.id)).toBe(0)
})

test('no URL: resolve fails and says how to get one', async () => {
  await using a = await pod()
  await using b = await pod()
  pairAt(a, b, '')
  const r = await peerTest(b, a.id)
  expect(r.ok).toBe(false)
  expect(failed(r)).toMatchObject({ step: 'resolve', detail: 'no URL for this peer', fix: expect.stringContaining('mazemaker advertise add') })
})

test('nothing listening, then a black hole: connect fails with what to check; a second URL that works still passes', async () => {
  await using a = await pod()
  await using b = await pod()
  const dead = `http://127.0.0.1:${deadPort()}`
  using hole = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Promise<Response>(() => {}) })
  const holeUrl = `http://127.0.0.1:${hole.port}`
  pairAt(a, b, [dead, holeUrl, a.url])
  const r = await peerTest(b, a.id)
  const connects = r.steps.filter((s) => s.step === 'connect')
  expect(connects[0]).toMatchObject({ url: dead, ok: false, fix: expect.stringContaining('nothing listens at') })
  expect(connects[1]).toMatchObject({
    url: holeUrl,
    ok: false,
    detail: expect.stringContaining('no answer from'),
    fix: expect.stringContaining('go unanswered'),
  })
  expect(connects[2]).toMatchObject({ url: a.url, ok: true })
  expect(r.ok).toBe(true)
})

test('another pod at the URL: identity fails', async () => {
  await using a = await pod()
  await using b = await pod()
  await using c = await pod()
  pairAt(a, b, c.url)
  const r = await peerTest(b, a.id)
  expect(r.ok).toBe(false)
  expect(failed(r)).toMatchObject({ step: 'identity', detail: `this URL reaches pod ${c.id.slice(0, 8)}, not ${a.id.slice(0, 8)}` })
})

test('a proxy refusing without its headers: identity fails with the headers fix', async () => {
  await using a = await pod()
  await using b = await pod()
  using proxy = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('Forbidden', { status: 403 }) })
  pairAt(a, b, `http://127.0.0.1:${proxy.port}`)
  const r = await peerTest(b, a.id)
  expect(failed(r)).toMatchObject({ step: 'identity', detail: expect.stringContaining('→ 403'), fix: expect.stringContaining('mazemaker peer headers set') })
})

test('the peer has not added us: the signed step fails with "send them your handshake URL"', async () => {
  await using a = await pod()
  await using b = await pod()
  pairAt(a, b, a.url, true)
  const r = await peerTest(b, a.id)
  expect(r.ok).toBe(false)
  expect(failed(r)).toMatchObject({
    step: 'signed',
    detail: expect.stringMatching(/^unauthorized/),
    fix: expect.stringContaining('send them your handshake URL'),
  })
})

test('clocks more than 300 s apart: the clock step fails (from the 401 clock_skew code)', async () => {
  const ahead = new FakeClock(Date.now() + 10 * MINUTE_MS)
  await using a = await pod(ahead)
  await using b = await pod()
  pairAt(a, b, a.url)
  const r = await peerTest(b, a.id)
  expect(r.ok).toBe(false)
  expect(r.steps.find((s) => s.step === 'signed')).toMatchObject({ ok: true, detail: expect.stringMatching(/^clock_skew/) })
  expect(failed(r)).toMatchObject({ step: 'clock', detail: expect.stringContaining('more than 300 s'), fix: expect.stringContaining('NTP') })
})

test('an https URL whose certificate is not trusted: connect ok, tls fails with the fix', async () => {
  using dirTmp = tempDir('mzm-tls-')
  const dir = dirTmp.path
  const cert = makeTestCa(dir, 'localhost') // a CA this machine does not trust
  using tls = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    tls: { cert: readFileSync(cert.cert, 'utf8'), key: readFileSync(cert.key, 'utf8') },
    fetch: () => new Response('{}'),
  })
  await using a = await pod()
  await using b = await pod()
  pairAt(a, b, `https://127.0.0.1:${tls.port}`)
  const r = await peerTest(b, a.id)
  expect(r.steps.find((s) => s.step === 'connect')).toMatchObject({ ok: true })
  expect(failed(r)).toMatchObject({ step: 'tls', fix: expect.stringContaining('certificate is not trusted') })
})

test('CLI: prints each step (fix lines on failure) and exits 0 on success, 1 on failure', async () => {
  await using a = await spawnPod()
  await using b = await spawnPod()
  const hsA = (await a.api('GET', '/peer/identity')).body.handshake_url as string
  expect((await runCli(['peer', 'add', hsA, '--url', a.url, '--home', b.home])).code).toBe(0)
  const idA = (await a.api('GET', '/peer/identity')).body.pod_id as string
  const one = await runCli(['peer', 'test', idA.slice(0, 8), '--home', b.home])
  expect(one.code).toBe(1)
  expect(one.stdout).toMatch(/ok +resolve/)
  expect(one.stdout).toMatch(/FAIL +signed/)
  expect(one.stdout).toContain('fix: the peer does not know this pod (yet): send them your handshake URL')
  const hsB = (await b.api('GET', '/peer/identity')).body.handshake_url as string
  expect((await runCli(['peer', 'add', hsB, '--url', b.url, '--home', a.home])).code).toBe(0)
  const both = await runCli(['peer', 'test', idA.slice(0, 8), '--home', b.home])
  expect(both.code).toBe(0)
  expect(both.stdout).toMatch(/ok +clock/)
  expect(both.stdout).toContain(`peer ${idA.slice(0, 8)}: ok`)
}, 60_000)
