/** The streaming body reader: caps counted as bytes arrive, chunked and lying bodies included. */
import { afterEach, describe, expect, test } from 'bun:test'
import type { Server } from 'bun'
import { BodyTooLarge, declaresOver, readBody, readBodyText } from '../../src/lib/read-body'

const MiB = 1024 * 1024
const servers: Server<undefined>[] = []
afterEach(() => {
  for (const s of servers.splice(0)) s.stop(true)
})

/** A local server whose every answer is an endless chunked body; reports how it ended. */
function endlessServer() {
  const state = { sent: 0, cancelled: false }
  const chunk = new Uint8Array(64 * 1024).fill(0x61)
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: () =>
      new Response(
        new ReadableStream<Uint8Array>({
          pull(ctrl) {
            state.sent += chunk.byteLength
            ctrl.enqueue(chunk)
          },
          cancel() {
            state.cancelled = true
          },
        }),
        { headers: { 'content-type': 'application/json' } },
      ),
  })
  servers.push(server)
  return { url: `http://127.0.0.1:${server.port}/`, state }
}

function responseOf(parts: (string | Uint8Array)[], headers: Record<string, string> = {}): Response {
  const enc = new TextEncoder()
  const stream = new ReadableStream<Uint8Array>({
    start(ctrl) {
      for (const p of parts) ctrl.enqueue(typeof p === 'string' ? enc.encode(p) : p)
      ctrl.close()
    },
  })
  return new Response(stream, { headers })
}

describe('readBody', () => {
  test('reads a body under the cap, across chunks, byte for byte', async () => {
    const text = await readBodyText(responseOf(['{"a":', '"é', '"}']), 100)
    expect(text).toBe('{"a":"é"}')
    expect(await readBody(responseOf([]), 0)).toEqual(new Uint8Array(0))
    expect(await readBodyText(new Response(null), 10)).toBe('')
  })

  test('a body of exactly the cap is accepted; one byte more is too_large', async () => {
    expect((await readBody(responseOf(['abcd', 'ef']), 6)).byteLength).toBe(6)
    const err = await readBody(responseOf(['abcd', 'efg']), 6).catch((e) => e)
    expect(err).toBeInstanceOf(BodyTooLarge)
    expect(err.code).toBe('too_large')
    expect(err.message).toContain('over 6 bytes')
  })

  test('a declared Content-Length over the cap is refused before the stream is touched', async () => {
    let cancelled = false
    const body = new ReadableStream<Uint8Array>({
      cancel() {
        cancelled = true
      },
    })
    const res = new Response(body, { headers: { 'content-length': String(10 * MiB) } })
    const err = await readBody(res, MiB, { what: 'response' }).catch((e) => e)
    expect(err).toBeInstanceOf(BodyTooLarge)
    expect(err.message).toStartWith('response is over 1048576 bytes')
    await Bun.sleep(0)
    expect(cancelled).toBe(true)
  })

  test('a Content-Length that lies low does not raise the cap', async () => {
    const err = await readBody(responseOf(['x'.repeat(50)], { 'content-length': '10' }), 20).catch((e) => e)
    expect(err).toBeInstanceOf(BodyTooLarge)
  })

  test('declaresOver reads only a plain decimal Content-Length', () => {
    const h = (v: string) => new Headers({ 'content-length': v })
    expect(declaresOver(h('17'), 16)).toBe(true)
    expect(declaresOver(h('16'), 16)).toBe(false)
    expect(declaresOver(h('1e9'), 16)).toBe(false) // not a length: the stream check decides
    expect(declaresOver(new Headers(), 16)).toBe(false)
  })

  test('an endless chunked answer from a real server is aborted past the cap and cancelled', async () => {
    const { url, state } = endlessServer()
    const rssBefore = process.memoryUsage().rss
    const res = await fetch(url)
    expect(res.headers.get('content-length')).toBeNull()
    const err = await readBody(res, 8 * MiB, { what: 'response' }).catch((e) => e)
    expect(err).toBeInstanceOf(BodyTooLarge)
    expect(err.code).toBe('too_large')
    expect(err.seenBytes).toBeGreaterThan(8 * MiB)
    expect(err.seenBytes).toBeLessThan(9 * MiB) // stopped within a chunk or so of the cap
    // Bounded memory: the cap plus buffers, nowhere near what an unbounded read would hold.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * MiB)
    // The connection is dropped, so the server stops producing.
    for (let i = 0; i < 50 && !state.cancelled; i++) await Bun.sleep(20)
    expect(state.cancelled).toBe(true)
    const sentAtStop = state.sent
    await Bun.sleep(50)
    expect(state.sent - sentAtStop).toBeLessThan(4 * MiB)
  })
})
