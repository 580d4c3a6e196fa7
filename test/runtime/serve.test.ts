/** serve() on the runtime running the tests (Bun); test/runtime/deno.test.ts runs the same checks under Deno. */
import { afterEach, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serve, unixFetch, type Server } from '../../src/runtime'

const servers: Server[] = []
let dir = ''
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()))
  if (dir) rmSync(dir, { recursive: true, force: true })
  dir = ''
})

const onError = (err: Error) => Response.json({ error: 'internal', message: err.message }, { status: 500 })

test('TCP on port 0: the bound port, the client address, errors answered by onError', async () => {
  const server = await serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: (req, conn) =>
      new URL(req.url).pathname === '/boom' ? Promise.reject(new Error('kaput')) : Response.json({ ip: conn.remoteAddress, port: conn.remotePort }),
    onError,
  })
  servers.push(server)
  expect(server).toMatchObject({ hostname: '127.0.0.1', unix: null })
  expect(server.port).toBeGreaterThan(0)
  const base = `http://127.0.0.1:${server.port}`
  const seen = (await (await fetch(`${base}/`)).json()) as { ip: string; port: number }
  expect(seen.ip).toBe('127.0.0.1')
  // The client's port: with the address it names the connection (the edge guard remembers authenticated ones).
  expect(seen.port).toBeGreaterThan(0)
  expect(seen.port).not.toBe(server.port)
  const boom = await fetch(`${base}/boom`)
  expect(boom.status).toBe(500)
  expect(await boom.json()).toEqual({ error: 'internal', message: 'kaput' })
})

test('a declared body over maxRequestBodySize is refused with 413 before fetch runs', async () => {
  let reached = 0
  const server = await serve({
    port: 0,
    maxRequestBodySize: 1024,
    fetch: () => {
      reached++
      return new Response('ok')
    },
    onError,
  })
  servers.push(server)
  const res = await fetch(`http://127.0.0.1:${server.port}/`, { method: 'POST', body: 'x'.repeat(4096) })
  expect(res.status).toBe(413)
  expect(reached).toBe(0)
  expect((await fetch(`http://127.0.0.1:${server.port}/`, { method: 'POST', body: 'small' })).status).toBe(200)
})

test('a taken port rejects with code EADDRINUSE', async () => {
  const first = await serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('first'), onError })
  servers.push(first)
  let caught: unknown
  try {
    servers.push(await serve({ hostname: '127.0.0.1', port: first.port, fetch: () => new Response('second'), onError }))
  } catch (err) {
    caught = err
  }
  expect((caught as { code?: string }).code).toBe('EADDRINUSE')
})

test('a Unix socket: no address, the path reported, requests served', async () => {
  dir = mkdtempSync(join(tmpdir(), 'mzm-rt-sock-'))
  const path = join(dir, 'pod.sock')
  const server = await serve({ unix: path, fetch: (_req, conn) => Response.json({ ip: conn.remoteAddress }), onError })
  servers.push(server)
  expect(server).toMatchObject({ hostname: '', port: 0, unix: path })
  const res = await unixFetch(path)('/', { method: 'POST', body: 'x' })
  expect(await res.json()).toEqual({ ip: null })
})

test('unixFetch: path and query travel; no socket is ENOENT, a leftover socket file ECONNREFUSED', async () => {
  dir = mkdtempSync(join(tmpdir(), 'mzm-rt-sock-'))
  const path = join(dir, 'pod.sock')
  const server = await serve({ unix: path, fetch: (req) => new Response(`${req.method} ${new URL(req.url).pathname}${new URL(req.url).search}`), onError })
  expect(await (await unixFetch(path)('/status?x=1', { method: 'PUT', body: '{}' })).text()).toBe('PUT /status?x=1')
  await server.stop()
  const code = (p: Promise<unknown>) =>
    p.then(
      () => 'connected',
      (err: { code?: string }) => err.code,
    )
  expect(await code(unixFetch(join(dir, 'missing.sock'))('/'))).toBe('ENOENT')
  // A socket file nobody listens on: what a server killed with SIGKILL leaves behind.
  const leftover = join(dir, 'leftover.sock')
  const child = Bun.spawn([process.execPath, '-e', `Bun.serve({ unix: ${JSON.stringify(leftover)}, fetch: () => new Response('') }); console.log('up')`], {
    stdout: 'pipe',
  })
  await child.stdout.getReader().read()
  child.kill('SIGKILL')
  await child.exited
  expect(await code(unixFetch(leftover)('/'))).toBe('ECONNREFUSED')
})

test('stop() lets the request in flight finish, then the port is free again', async () => {
  let release!: () => void
  const gate = new Promise<void>((r) => (release = r))
  const server = await serve({
    port: 0,
    fetch: async () => {
      await gate
      return new Response('done')
    },
    onError,
  })
  const inflight = fetch(`http://127.0.0.1:${server.port}/`)
  await Bun.sleep(20)
  const stopped = server.stop()
  release()
  expect(await (await inflight).text()).toBe('done')
  await stopped
  const again = await serve({ hostname: '127.0.0.1', port: server.port, fetch: () => new Response('again'), onError })
  servers.push(again)
  expect(again.port).toBe(server.port)
})
