/**
 * Protocol versions (contract Part 1c): /healthz names the protocol; /peer/sync reads Mzm-Protocol
 * (absent = 2) and answers a version it does not speak with 400 protocol_unsupported and the list
 * it does, before looking at the Bearer; every answer names its version. A puller meeting a peer
 * that speaks only another version says so, naming both and which side should upgrade.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Server } from 'bun'
import type { PodProcess } from '../helpers/pod-process'
import { buildSyncRequest, handshakeUrl, newKeyPair, SEALED_TYPE, type KeyPair, type PodTarget } from './_contract'
import { pairedCaller, peerRow, spawn, stopPods, syncNow } from './_fixture'

let pod: PodProcess
let self: KeyPair
let target: PodTarget
const servers: Server<undefined>[] = []

beforeAll(async () => {
  pod = await spawn()
  ;({ self, target } = await pairedCaller(pod))
})
afterAll(async () => {
  for (const s of servers) await s.stop(true)
  await stopPods([pod])
})

async function sync(headers: Record<string, string>, body: Uint8Array | string = 'x') {
  const res = await fetch(`${pod.url}/peer/sync`, { method: 'POST', headers, body: body as BodyInit })
  // A served answer is sealed (random-looking bytes, which may well start with '{'): only JSON is parsed.
  const json = (res.headers.get('content-type') ?? '').startsWith('application/json') ? await res.json() : (await res.arrayBuffer(), null)
  return { status: res.status, protocol: res.headers.get('mzm-protocol'), json }
}

describe('the pod as callee', () => {
  test('/healthz names protocol 2', async () => {
    const health = (await (await fetch(`${pod.url}/healthz`)).json()) as { protocol?: unknown }
    expect(health.protocol).toBe(2)
  })

  test('Mzm-Protocol: 3 with no Authorization at all: 400 protocol_unsupported, supported [2], before the Bearer', async () => {
    const a = await sync({ 'mzm-protocol': '3', 'content-type': SEALED_TYPE })
    expect(a.status).toBe(400)
    expect(a.json).toMatchObject({ error: 'protocol_unsupported', supported: [2], message: expect.any(String) })
    expect(a.protocol).toBe('2')
  })

  test('Mzm-Protocol: 3 on a validly signed request: still 400 protocol_unsupported; garbage versions likewise', async () => {
    for (const asked of ['3', '1', 'two', '2.0', '']) {
      const req = buildSyncRequest(self, target, { since: null, scope: ['public:*'], limit: 10 })
      const a = await sync({ ...req.headers, 'mzm-protocol': asked }, req.body)
      expect({ asked, status: a.status, error: a.json?.error }).toEqual({ asked, status: 400, error: 'protocol_unsupported' })
    }
  })

  test('Mzm-Protocol: 2, or none, is served; the answer says 2, refusals too', async () => {
    const extras: Record<string, string>[] = [{ 'mzm-protocol': '2' }, {}]
    for (const extra of extras) {
      const req = buildSyncRequest(self, target, { since: null, scope: ['public:*'], limit: 10 })
      const a = await sync({ ...req.headers, ...extra }, req.body)
      expect(a.status).toBe(200)
      expect(a.protocol).toBe('2')
    }
    const refused = await sync({ 'content-type': SEALED_TYPE })
    expect(refused.status).toBe(401)
    expect(refused.protocol).toBe('2')
  })
})

describe('the pod as puller', () => {
  /** A peer that speaks `supported` only, written from the contract: it refuses every other version. */
  function peerSpeaking(supported: number[]): { kp: KeyPair; url: string; asked: (string | null)[] } {
    const asked: (string | null)[] = []
    const server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch(req) {
        if (new URL(req.url).pathname === '/healthz') return Response.json({ ok: true, protocol: supported[0] })
        const v = req.headers.get('mzm-protocol')
        asked.push(v)
        const message = `this pod speaks protocol ${supported.join(', ')}`
        return Response.json({ error: 'protocol_unsupported', supported, message }, { status: 400, headers: { 'mzm-protocol': String(supported[0]) } })
      },
    })
    servers.push(server)
    return { kp: newKeyPair(), url: `http://127.0.0.1:${server.port}`, asked }
  }

  async function pairAndPull(peer: { kp: KeyPair; url: string }) {
    const add = await pod.api('POST', '/peer/add', { handshake_url: handshakeUrl(peer.kp), direct_url: peer.url, sync: true })
    expect(add.status).toBe(201)
    const res = await syncNow(pod, peer.kp.podId)
    return { result: res.body.results[0], row: await peerRow(pod, peer.kp.podId) }
  }

  test('a peer that speaks only version 3: protocol_unsupported naming 3 and 2, this pod should upgrade; shown in the peer list', async () => {
    const peer = peerSpeaking([3])
    const { result, row } = await pairAndPull(peer)
    expect(peer.asked).toEqual(['2'])
    expect(result).toMatchObject({ ok: false, error: 'protocol_unsupported' })
    expect(result.detail).toContain('version 3')
    expect(result.detail).toContain('version 2')
    expect(result.detail).toContain('upgrade this pod')
    expect(row?.status).toBe('error')
    expect(row?.last_error).toContain('upgrade this pod')
  })

  test('a peer that speaks only version 1: the peer should upgrade', async () => {
    const { result } = await pairAndPull(peerSpeaking([1]))
    expect(result).toMatchObject({ ok: false, error: 'protocol_unsupported' })
    expect(result.detail).toContain('the peer should upgrade')
  })
})
