/**
 * Bounded fetches from a thread of their own (src/sync/off-thread-fetch.ts), as a pull of many
 * pages makes them under Deno, run under both runtimes against a real server: the answer comes
 * back whole, a request leaves while the main thread is busy, and every failure keeps its kind
 * (too_large, the headers deadline, a refused connection, an abort, the thread closed).
 */
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DENO, ROOT } from '../helpers/pod-process'
import { type OffThreadFetch, sharedFetchThread } from '../../src/sync/off-thread-fetch'

const dir = mkdtempSync(join(tmpdir(), 'mzm-off-thread-'))
const probe = join(ROOT, 'test', 'sync', 'fixtures', 'off-thread-fetch-probe.ts')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const srv = createServer()
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  const { port } = srv.address() as { port: number }
  await new Promise<void>((resolve) => srv.close(() => resolve()))
  return port
}

for (const [name, argv] of [
  ['bun', [process.execPath, probe]],
  ['deno', [DENO, 'run', '-A', probe]],
] as const) {
  test(`under ${name}: answers, a request sent while the main thread works, and each way a fetch fails`, async () => {
    const marker = join(dir, `${name}.heard`)
    const never = Promise.withResolvers<Response>()
    const server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      async fetch(req) {
        const path = new URL(req.url).pathname
        if (path === '/echo') return new Response(`got: ${await req.text()}`, { headers: { 'x-seen': req.headers.get('x-probe') ?? '' } })
        if (path === '/heard') {
          writeFileSync(marker, 'heard')
          return new Response('ok')
        }
        if (path === '/chunked') {
          // No Content-Length: 8 KiB in 1 KiB chunks against a 4 KiB cap.
          const chunk = new Uint8Array(1024).fill(120)
          let sent = 0
          const body = new ReadableStream<Uint8Array>({
            pull(ctl) {
              if (sent++ < 8) ctl.enqueue(chunk)
              else ctl.close()
            },
          })
          return new Response(body)
        }
        return never.promise // '/never': no headers, ever
      },
    })
    try {
      const proc = Bun.spawn([...argv, `http://127.0.0.1:${server.port}`, marker, `http://127.0.0.1:${await closedPort()}`], {
        cwd: ROOT,
        stdout: 'pipe',
        stderr: 'pipe',
      })
      const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
      const out = JSON.parse(stdout)
      expect(out.answer).toEqual({ status: 200, seen: 'yes', text: 'got: page 2, please' })
      // Not ready in the step that starts it (the thread has not even run); ready once it answered.
      expect({ atStart: out.readyAtStart, afterAnswer: out.readyAfterAnswer, closed: out.readyClosed }).toEqual({
        atStart: false,
        afterAnswer: true,
        closed: false,
      })
      expect({ heard: out.heard, status: out.heardStatus }).toEqual({ heard: true, status: 200 })
      expect(out.tooLarge).toMatchObject({ phase: 'body', kind: 'too_large' })
      expect(out.headersLate).toEqual({ phase: 'request', kind: 'headers_timeout', detail: 'no answer within 200 ms (connect timeout)' })
      expect(out.refused).toEqual({ phase: 'request', kind: 'failed', detail: 'ECONNREFUSED' })
      expect(out.aborted).toMatchObject({ phase: 'request', kind: 'failed' })
      expect(out.closed).toMatchObject({ phase: 'request', kind: 'failed', detail: 'the fetch thread was closed' })
      expect(out.afterClose).toMatchObject({ phase: 'request', kind: 'failed', detail: 'the fetch thread is closed' })
    } finally {
      never.resolve(new Response('late'))
      server.stop(true)
    }
  }, 30_000)
}

test('pulls running at once share one fetch thread: started by the first, ended when the last lets go', () => {
  const started: { closed: number }[] = []
  let loaded = false
  const start = (): OffThreadFetch => {
    const thread = { closed: 0 }
    started.push(thread)
    return { fetch: () => Promise.reject(new Error('not asked here')), ready: () => loaded, close: () => void thread.closed++ }
  }
  const shared = sharedFetchThread(start)
  const first = shared.acquire()
  const second = shared.acquire()
  expect(started).toEqual([{ closed: 0 }])
  expect([first.ready(), second.ready()]).toEqual([false, false])
  loaded = true
  expect([first.ready(), second.ready()]).toEqual([true, true])
  first.close()
  first.close() // letting go twice counts once
  expect(started).toEqual([{ closed: 0 }])
  expect([first.ready(), second.ready()]).toEqual([false, true]) // let go of: not this pull's any more
  second.close()
  expect(started).toEqual([{ closed: 1 }])
  // The next bulk pull gets a thread of its own again.
  shared.acquire().close()
  expect(started).toEqual([{ closed: 1 }, { closed: 1 }])
})
