/** The puller's side of one /peer/sync round trip against a real local server. */
import { afterEach, describe, expect, test } from 'bun:test'
import type { Server } from 'bun'
import { randomBytes, randomUUID } from 'node:crypto'
import { importPairKey, type PodId } from '../../src/identity'
import { PeerError } from '../../src/lib/errors'
import { SYNC_RESPONSE_MAX_BYTES as MAX_RESPONSE_BYTES } from '../../src/protocol'
import { pullPage } from '../../src/sync/peer-client'

const MiB = 1024 * 1024
const servers: Server<undefined>[] = []
afterEach(() => {
  for (const s of servers.splice(0)) s.stop(true)
})

async function request(baseUrl: string) {
  return {
    baseUrl,
    pairKey: await importPairKey(randomBytes(32)),
    selfId: randomUUID() as PodId,
    peerId: randomUUID() as PodId,
    since: null,
    scope: ['public:*'],
    limit: 500,
    nowMs: Date.now(),
  }
}

describe('pullPage', () => {
  test('the response cap is the contract 64 MiB', () => {
    expect(MAX_RESPONSE_BYTES).toBe(64 * MiB)
  })

  test('a chunked answer past 64 MiB is too_large, read no further, and nothing is parsed', async () => {
    const chunk = new Uint8Array(MiB).fill(0x20)
    let sent = 0
    const server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: () =>
        new Response(
          new ReadableStream<Uint8Array>({
            pull(ctrl) {
              // 80 MiB in all, no Content-Length: only counting as bytes arrive can catch it.
              if (sent >= 80 * MiB) return ctrl.close()
              sent += chunk.byteLength
              ctrl.enqueue(chunk)
            },
          }),
          { headers: { 'content-type': 'application/json', 'mzm-signature': 'A'.repeat(43) } },
        ),
    })
    servers.push(server)
    const err = await pullPage(await request(`http://127.0.0.1:${server.port}`)).catch((e) => e)
    expect(err).toBeInstanceOf(PeerError)
    expect(err.code).toBe('too_large')
    expect(err.message).toContain('nothing stored')
  })

  test('a declared Content-Length past 64 MiB is too_large before any byte is read', async () => {
    const server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: () => new Response(new Uint8Array(MAX_RESPONSE_BYTES + 1), { headers: { 'content-type': 'application/json' } }),
    })
    servers.push(server)
    const err = await pullPage(await request(`http://127.0.0.1:${server.port}`)).catch((e) => e)
    expect(err.code).toBe('too_large')
  })
})

describe('protocol versions', () => {
  /** A peer that speaks `supported` only: it refuses any other Mzm-Protocol, and answers 503 otherwise. */
  function peerSpeaking(supported: number[], seen: (string | null)[]) {
    const server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: (req) => {
        const asked = req.headers.get('mzm-protocol')
        seen.push(asked)
        if (!supported.includes(Number(asked ?? 2))) return Response.json({ error: 'protocol_unsupported', supported, message: 'no' }, { status: 400 })
        return Response.json({ error: 'busy', message: 'stub' }, { status: 503 })
      },
    })
    servers.push(server)
    return `http://127.0.0.1:${server.port}`
  }

  test('a request names the version it speaks: Mzm-Protocol 2', async () => {
    const seen: (string | null)[] = []
    await pullPage(await request(peerSpeaking([2], seen))).catch(() => undefined)
    expect(seen).toEqual(['2'])
  })

  test('refused at our first choice, the puller asks again at the highest version both speak', async () => {
    const seen: (string | null)[] = []
    const err = await pullPage({ ...(await request(peerSpeaking([2, 1], seen))), protocols: [3, 2] }).catch((e) => e)
    expect(seen).toEqual(['3', '2'])
    expect(err.code).toBe('http_503') // the stub's answer at version 2: the retry got through
  })

  test('no common version: protocol_unsupported naming both lists and which side should upgrade', async () => {
    const newer = await pullPage(await request(peerSpeaking([3], []))).catch((e) => e)
    expect(newer).toBeInstanceOf(PeerError)
    expect(newer.code).toBe('protocol_unsupported')
    expect(newer.message).toContain('the peer speaks protocol version 3, this pod version 2: upgrade this pod')
    const older = await pullPage(await request(peerSpeaking([1], []))).catch((e) => e)
    expect(older.message).toContain('the peer speaks protocol version 1, this pod version 2: the peer should upgrade')
  })
})
