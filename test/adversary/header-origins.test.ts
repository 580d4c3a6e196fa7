/**
 * Per-peer secret headers (Cloudflare Access tokens) are bound to origins (contract Part 1c): they
 * go only to the origins their file names, never to a URL a rendezvous returned or a handshake
 * carried unless its origin is listed, never over plain http except to loopback. A sink (a small
 * HTTP server here) stands behind a hostile rendezvous's answer and behind a peer's plain-http
 * LAN URL (reached through HTTP_PROXY, so the pod talks to 127.0.0.1 only): it must see the
 * pulls, and none of the headers.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Server } from 'bun'
import { cleanup, runCli, spawnPod, tempHome, type PodProcess } from '../helpers/pod-process'
import { handshakeUrl, newKeyPair, type KeyPair } from './_contract'
import { syncNow, until } from './_fixture'

const SECRET = 'Zq9-access-secret-7d2a4e6c8b0d5c0e3f1b'
const ACCESS_ORIGIN = 'https://wonder-alice.team.example'
const LAN_URL = 'http://192.0.2.10:8765'

/** Every request that reached the sink: where it was for, and whether it carried the secret. */
const seen: { url: string; secret: boolean }[] = []
const sink: Server<undefined> = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  fetch(req) {
    seen.push({ url: req.url, secret: [...req.headers.values()].some((v) => v.includes(SECRET)) })
    return Response.json({ error: 'not_found' }, { status: 404 })
  },
})
const sinkUrl = `http://127.0.0.1:${sink.port}`

/** A rendezvous that answers every lookup with the sink's URL. */
const rvKey = newKeyPair().publicKey
const hostileRendezvous: Server<undefined> = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  fetch(req) {
    const { pathname } = new URL(req.url)
    if (pathname === '/api/rendezvous') return Response.json({ key: rvKey, version: 'hostile' })
    const lookup = /^\/api\/peers\/lookup\/([0-9a-f-]{36})$/.exec(pathname)
    if (lookup) return Response.json({ peer_id: lookup[1], url: sinkUrl, expires_at: new Date(Date.now() + 300_000).toISOString() })
    return Response.json({ peer_id: 'x', url: 'http://127.0.0.1:9', expires_at: new Date().toISOString() })
  },
})

const home = tempHome()
let pod: PodProcess

beforeAll(async () => {
  const join = await runCli(['rendezvous', 'join', `http://127.0.0.1:${hostileRendezvous.port}`, '--token', `mzr_${'A'.repeat(43)}`, '--home', home])
  expect(join.code).toBe(0)
  // Plain http to other machines goes through the sink as a proxy; loopback goes direct.
  pod = await spawnPod({ home, env: { HTTP_PROXY: sinkUrl, http_proxy: sinkUrl, NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost' } })
})
afterAll(async () => {
  await cleanup(pod ? [pod] : [], [home])
  await sink.stop(true)
  await hostileRendezvous.stop(true)
})

async function addPeer(kp: KeyPair, url?: string): Promise<void> {
  const res = await pod.api('POST', '/peer/add', { handshake_url: handshakeUrl(kp, url ? { url } : {}), sync: true })
  expect(res.status).toBe(201)
}

async function setHeader(kp: KeyPair, origins?: string[]): Promise<{ for: string[] | null }> {
  const res = await pod.api('PUT', `/peer/peers/${kp.podId}/headers/CF-Access-Client-Secret`, { value: SECRET, ...(origins ? { for: origins } : {}) })
  expect(res.status).toBe(200)
  return res.body
}

const toward = (part: string) => seen.filter((s) => s.url.includes(part))

test('behind a hostile rendezvous: the pull reaches the sink, the headers (for the Access origin) do not', async () => {
  const peer = newKeyPair()
  await addPeer(peer) // no URL in the handshake: mzm-rendezvous://<id>
  expect((await setHeader(peer, [ACCESS_ORIGIN])).for).toEqual([ACCESS_ORIGIN])
  await syncNow(pod, peer.podId)
  await until(() => toward('/peer/sync').length > 0)
  expect(toward('/peer/sync').filter((s) => s.secret)).toEqual([])
  // peer test says so, per URL.
  const report = await pod.api('POST', `/peer/peers/${peer.podId}/test`)
  const headersStep = report.body.steps.find((s: { step: string }) => s.step === 'headers')
  expect(headersStep).toMatchObject({ url: sinkUrl, detail: expect.stringContaining('withheld') })
  expect(JSON.stringify(report.body)).not.toContain(SECRET)
})

test('a plain-http LAN URL from the handshake: reached (through the proxy), the headers withheld', async () => {
  const peer = newKeyPair()
  await addPeer(peer, LAN_URL)
  // Set without origins: bound to the https origins of its URLs, of which it has none.
  expect((await setHeader(peer)).for).toEqual([])
  await syncNow(pod, peer.podId)
  await until(() => toward('192.0.2.10').length > 0)
  expect(toward('192.0.2.10').filter((s) => s.secret)).toEqual([])
  // Even listed (by hand), plain http to another machine is refused, never sent.
  const path = join(home, 'peer-keys', 'headers', `${peer.podId}.toml`)
  writeFileSync(path, `for = [ "${LAN_URL}" ]\nCF-Access-Client-Secret = "${SECRET}"\n`, { mode: 0o600 })
  const before = toward('192.0.2.10').length
  const res = await syncNow(pod, peer.podId)
  expect(res.body.results[0]).toMatchObject({ ok: false, error: 'bad_headers' })
  expect(
    toward('192.0.2.10')
      .slice(before)
      .filter((s) => s.secret),
  ).toEqual([])
})

test('a header file from before `for`: bound to the https origins of the peer’s URLs (here none), said in the log, nothing sent over plain http', async () => {
  const peer = newKeyPair()
  await addPeer(peer, LAN_URL)
  const path = join(home, 'peer-keys', 'headers', `${peer.podId}.toml`)
  writeFileSync(path, `CF-Access-Client-Secret = "${SECRET}"\n`, { mode: 0o600 })
  const before = toward('192.0.2.10').length
  await syncNow(pod, peer.podId)
  await until(() => toward('192.0.2.10').length > before)
  expect(
    toward('192.0.2.10')
      .slice(before)
      .filter((s) => s.secret),
  ).toEqual([])
  expect(pod.logs()).toMatch(new RegExp(`op=peer_headers peer=${peer.podId.slice(0, 8)} .*bound to none`))
  expect(pod.logs()).not.toContain(SECRET)
})

test('control: an origin the headers are for (loopback http, the operator-set URL) gets them', async () => {
  const peer = newKeyPair()
  const res = await pod.api('POST', '/peer/add', { handshake_url: handshakeUrl(peer), direct_url: `${sinkUrl}/ok`, sync: true })
  expect(res.status).toBe(201)
  expect((await setHeader(peer)).for).toEqual([sinkUrl])
  await syncNow(pod, peer.podId)
  await until(() => toward('/ok/peer/sync').length > 0)
  expect(toward('/ok/peer/sync').every((s) => s.secret)).toBe(true)
})
