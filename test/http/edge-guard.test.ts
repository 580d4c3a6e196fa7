/** The edge guard in process: the per-address cap, what authenticates, and which answers close. */
import { expect, test } from 'bun:test'
import { Hono } from 'hono'
import { authenticated, BodyTimeout, edgeGuard } from '../../src/http/edge-guard'
import { readBody } from '../../src/lib/read-body'

/** An app whose /held requests wait for `release()`, authenticating first when asked to. */
function heldApp(cap: number, authenticatedConnectionsKept?: number, clock?: { ms: number; idleMs: number }) {
  const told: string[] = []
  let release!: () => void
  const gate = new Promise<void>((r) => (release = r))
  const app = new Hono()
    .use(
      edgeGuard({
        unauthenticatedPerAddress: cap,
        onCapReached: (a) => told.push(a),
        authenticatedConnectionsKept,
        ...(clock ? { now: () => clock.ms, connectionIdleMs: clock.idleMs } : {}),
      }),
    )
    .get('/held', async (c) => {
      if (c.req.query('auth')) authenticated(c)
      await gate
      return c.text('done')
    })
    .get('/open', (c) => c.text('hi'))
    .get('/me', (c) => {
      authenticated(c)
      return c.text('me')
    })
  const from = (address: string | null, port: number | null = null) => ({ remoteAddress: address, remotePort: port })
  return { app, told, release, from }
}

test('past the cap of unauthenticated requests in flight from one address: 429 with Connection: close, told once; other addresses unaffected', async () => {
  const { app, told, release, from } = heldApp(3)
  const held = [1, 2, 3].map(() => app.fetch(new Request('http://pod/held'), from('10.0.0.1')))
  const over = await app.fetch(new Request('http://pod/open'), from('10.0.0.1'))
  expect(over.status).toBe(429)
  expect(over.headers.get('connection')).toBe('close')
  expect(((await over.json()) as { error: string }).error).toBe('rate_limited')
  expect((await app.fetch(new Request('http://pod/open'), from('10.0.0.1'))).status).toBe(429)
  expect(told).toEqual(['10.0.0.1'])
  expect((await app.fetch(new Request('http://pod/open'), from('10.0.0.2'))).status).toBe(200)
  // No address (the Unix socket, in-process calls): no cap.
  expect((await app.fetch(new Request('http://pod/open'), from(null))).status).toBe(200)
  release()
  await Promise.all(held)
  expect((await app.fetch(new Request('http://pod/open'), from('10.0.0.1'))).status).toBe(200)
})

test('an authenticated request leaves the count at once: held long-polls of peers do not fill it', async () => {
  const { app, release, from } = heldApp(2)
  const held = [1, 2, 3, 4].map(() => app.fetch(new Request('http://pod/held?auth=1'), from('10.0.0.1')))
  expect((await app.fetch(new Request('http://pod/open'), from('10.0.0.1'))).status).toBe(200)
  release()
  for (const res of await Promise.all(held)) expect(res.headers.get('connection')).toBeNull()
})

test('at the cap, a connection where a request authenticated is served again (a peer re-asking on its keep-alive connection); once it closes, its port counts again', async () => {
  const { app, release, from } = heldApp(2)
  expect((await app.fetch(new Request('http://pod/me'), from('127.0.0.1', 5000))).status).toBe(200)
  const held = [5001, 5002].map((port) => app.fetch(new Request('http://pod/held'), from('127.0.0.1', port)))
  expect((await app.fetch(new Request('http://pod/me'), from('127.0.0.1', 5003))).status).toBe(429)
  const again = await app.fetch(new Request('http://pod/me'), from('127.0.0.1', 5000))
  expect(again.status).toBe(200)
  expect(again.headers.get('connection')).toBeNull()
  // A request on it that does not authenticate is answered, and its connection closes …
  const open = await app.fetch(new Request('http://pod/open'), from('127.0.0.1', 5000))
  expect(open.status).toBe(200)
  expect(open.headers.get('connection')).toBe('close')
  // … so the next request from that port is a new connection, counted like any other.
  expect((await app.fetch(new Request('http://pod/me'), from('127.0.0.1', 5000))).status).toBe(429)
  release()
  await Promise.all(held)
})

test('authenticated connections are remembered up to a bound: the oldest is forgotten and counts again', async () => {
  const { app, release, from } = heldApp(1, 2)
  for (const port of [5000, 5001, 5002]) expect((await app.fetch(new Request('http://pod/me'), from('127.0.0.1', port))).status).toBe(200)
  const held = app.fetch(new Request('http://pod/held'), from('127.0.0.1', 6000))
  expect((await app.fetch(new Request('http://pod/me'), from('127.0.0.1', 5000))).status).toBe(429)
  for (const port of [5001, 5002]) expect((await app.fetch(new Request('http://pod/me'), from('127.0.0.1', port))).status).toBe(200)
  release()
  await held
})

test("a remembered connection idle past the server's idle timeout is forgotten: the server closed it, the next from its port counts", async () => {
  const clock = { ms: 0, idleMs: 70_000 }
  const { app, release, from } = heldApp(1, undefined, clock)
  expect((await app.fetch(new Request('http://pod/me'), from('127.0.0.1', 5000))).status).toBe(200)
  const held = app.fetch(new Request('http://pod/held'), from('127.0.0.1', 6000))
  clock.ms = 70_000 // idle exactly as long as the server allows: still open, still that connection
  expect((await app.fetch(new Request('http://pod/me'), from('127.0.0.1', 5000))).status).toBe(200)
  clock.ms = 140_001 // 70 s after that answer and a millisecond: closed by now
  expect((await app.fetch(new Request('http://pod/me'), from('127.0.0.1', 5000))).status).toBe(429)
  release()
  await held
})

test('an unauthenticated answer closes its connection; an authenticated one keeps it unless it left its body unread', async () => {
  const { app, from } = heldApp(64)
  expect((await app.fetch(new Request('http://pod/open'), from('10.0.0.1'))).headers.get('connection')).toBe('close')
  expect((await app.fetch(new Request('http://pod/me'), from('10.0.0.1'))).headers.get('connection')).toBeNull()
  const post = new Hono().use(edgeGuard()).post('/me', (c) => {
    authenticated(c)
    return c.text('me')
  })
  const res = await post.fetch(new Request('http://pod/me', { method: 'POST', body: 'never read', headers: { 'content-length': '10' } }), from('10.0.0.1'))
  expect(res.headers.get('connection')).toBe('close')
})

test('a body that does not arrive by its deadline: the read ends with the caller’s error', async () => {
  const never = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new Uint8Array([1]))
    },
  })
  const source = { headers: new Headers(), body: never }
  const err = await readBody(source, 1024, { deadlineMs: 20, onLate: () => new BodyTimeout() }).catch((e: unknown) => e)
  expect(err).toBeInstanceOf(BodyTimeout)
  expect((err as BodyTimeout).code).toBe('body_timeout')
  // A body that is whole in time is returned as usual.
  expect(await readBody(new Request('http://x', { method: 'POST', body: 'abc' }), 1024, { deadlineMs: 1_000 })).toEqual(new TextEncoder().encode('abc'))
})
