/**
 * Changing a live peer (its scope, URL, key or `live`) through the admin API, as `peer set`,
 * `peer add --replace` and the panel do, applies to the pull in flight at once: the held
 * long-poll is given up and the peer is pulled again right away, then held live again. The next
 * write that matches arrives without any sync call. Real pods on loopback, real clock.
 */
import { afterEach, expect, test } from 'bun:test'
import { cpSync } from 'node:fs'
import { join } from 'node:path'
import { addPeer, copies, livePods, pullLines, until, type LivePod } from './_live-pods'
import { shortId } from '../../src/identity'
import { tempHome } from '../helpers/pod-process'

const pods = livePods()
const servers: { stop(force?: boolean): unknown }[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop(true)
  await pods.cleanup()
})

/** A and B paired; B pulls A live with `scope` at `url` (default A's own). Resolves once B's long-poll is held at A. */
async function pairedLive(opts: { scope?: string | string[]; url?: string } = {}): Promise<{ a: LivePod; b: LivePod }> {
  const a = await pods.start()
  const b = await pods.start()
  await addPeer(a, b, { sync: false }) // A only serves B here
  await addPeer(b, a, opts)
  await until(() => a.heldPolls() === 1, "B's long-poll held at A")
  return { a, b }
}

async function write(pod: LivePod, label: string): Promise<void> {
  const res = await pod.api('POST', '/memories', { label, content: `content of ${label}` })
  expect(res.status).toBe(201)
}

test('scope changed on a live peer: the next write in the new scope arrives live', async () => {
  const { a, b } = await pairedLive({ scope: 'public:team*' })
  expect((await b.api('PATCH', `/peer/peers/${a.id}`, { scope: ['public:team*', 'public:notes*'] })).status).toBe(200)
  await write(a, 'public:notes-1')
  await until(() => copies(b, a.id).includes(`peer:${a.id}:public:notes-1`), 'the write in the new scope at B')
  // And B holds again for the next one.
  await until(() => a.heldPolls() === 1, "B's next long-poll held at A")
  await write(a, 'public:notes-2')
  await until(() => copies(b, a.id).length === 2, 'the second write at B')
  expect(b.log.lines.some((l) => l.includes('err=scope_changed'))).toBe(true)
})

test('scope narrowed on a live peer: the copies it no longer covers go, and it is held again at once from where it was (nothing pulled again)', async () => {
  const { a, b } = await pairedLive({ scope: ['public:team*', 'public:notes*'] })
  await write(a, 'public:team-1')
  await write(a, 'public:notes-1')
  await until(() => copies(b, a.id).length === 2, 'both writes at B')
  await until(() => a.heldPolls() === 1, "B's long-poll held at A")
  const before = pullLines(b, shortId(a.id)).length
  expect((await b.api('PATCH', `/peer/peers/${a.id}`, { scope: ['public:team*'] })).status).toBe(200)
  await until(() => copies(b, a.id).length === 1, 'the copy outside the new scope gone from B')
  await until(() => a.heldPolls() === 1, "B's long-poll held at A again")
  await write(a, 'public:team-2')
  await until(() => copies(b, a.id).length === 2, 'the next write in scope at B')
  expect(copies(b, a.id).sort()).toEqual([`peer:${a.id}:public:team-1`, `peer:${a.id}:public:team-2`])
  // One pull since the change, the held one that brought team-2: no catch-up from the start.
  const since = pullLines(b, shortId(a.id)).slice(before)
  expect(since).toHaveLength(1)
  expect(since[0]).toContain('fetched=1 stored=1')
})

test('URL changed on a live peer: the held request at the old URL is given up and the next write arrives through the new one', async () => {
  const a = await pods.start()
  // The old URL: a front that forwards to A until told to go silent, then keeps every answer.
  let silent = false
  const front = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    idleTimeout: 0,
    fetch: async (req) => {
      const url = new URL(req.url)
      const res = await fetch(a.url + url.pathname, { method: req.method, headers: req.headers, body: await req.arrayBuffer() })
      const body = await res.arrayBuffer()
      if (silent) await new Promise((resolve) => req.signal.addEventListener('abort', resolve, { once: true }))
      return new Response(body, { status: res.status, headers: res.headers })
    },
  })
  servers.push(front)
  const b = await pods.start()
  await addPeer(a, b, { sync: false })
  await addPeer(b, a, { url: `http://127.0.0.1:${front.port}` })
  await until(() => a.heldPolls() === 1, "B's long-poll held at A through the front")
  silent = true
  expect((await b.api('PATCH', `/peer/peers/${a.id}`, { url: a.url })).status).toBe(200)
  await write(a, 'public:moved')
  await until(() => copies(b, a.id).length === 1, 'the write at B through the new URL')
  expect(b.log.lines.some((l) => l.includes('err=url_changed'))).toBe(true)
})

test('key replaced (peer add --replace): the pull in flight under the old key stops and the peer is pulled live under the new one', async () => {
  const { a, b } = await pairedLive()
  // A2: the same pod id with a new key pair (A's self.key lost and A started afresh), at its own address.
  const home2 = tempHome('mzm-live-')
  cpSync(join(a.home.paths.root, 'pod.toml'), join(home2, 'pod.toml'))
  const a2 = await pods.start({ home: home2 })
  expect(a2.id).toBe(a.id)
  await addPeer(a2, b, { sync: false })
  const hs = (await a2.api('GET', '/peer/identity')).body.handshake_url as string
  const res = await b.api('POST', '/peer/add', { handshake_url: hs, direct_url: a2.url, replace: true })
  expect(res.status).toBe(200)
  await write(a2, 'public:new-key')
  await until(() => copies(b, a.id).includes(`peer:${a.id}:public:new-key`), 'the write from the re-keyed peer at B')
  await until(() => a2.heldPolls() === 1 && a.heldPolls() === 0, 'B held at the re-keyed peer only')
})

test('live turned off: the held request is given up at once; turned on again: held again, and the next write arrives live', async () => {
  const { a, b } = await pairedLive()
  expect((await b.api('PATCH', `/peer/peers/${a.id}`, { live: false })).status).toBe(200)
  await until(() => a.heldPolls() === 0, 'no request held at A')
  expect((await b.api('PATCH', `/peer/peers/${a.id}`, { live: true })).status).toBe(200)
  await until(() => a.heldPolls() === 1, "B's long-poll held at A again")
  await write(a, 'public:live-again')
  await until(() => copies(b, a.id).length === 1, 'the write at B')
})
