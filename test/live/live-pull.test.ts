/**
 * Live federation between real pods (in process, loopback, real clock, pull loops running): a
 * write at A reaches live peer B through B's held long-poll, without any sync call; writes B may
 * not receive (private, scope-excluded) wake nobody; a burst arrives in pages.
 */
import { afterEach, expect, test } from 'bun:test'
import { shortId } from '../../src/identity'
import { addPeer, copies, livePods, pullLines, until, type LivePod } from './_live-pods'

const pods = livePods()
afterEach(() => pods.cleanup())

/** A and B paired both ways; B pulls A with `scope`. Resolves once B's long-poll is held at A. */
async function pairedLive(scope?: string, aOpts: { durable?: boolean } = {}): Promise<{ a: LivePod; b: LivePod }> {
  const a = await pods.start(aOpts)
  const b = await pods.start()
  await addPeer(a, b, { sync: false }) // A only serves B here
  await addPeer(b, a, { scope })
  await until(() => a.heldPolls() === 1, "B's long-poll held at A")
  return { a, b }
}

test('a write at A appears at live peer B without any sync call', async () => {
  const { a, b } = await pairedLive()
  const res = await a.api('POST', '/memories', { label: 'public:live', content: 'arrives by itself' })
  expect(res.status).toBe(201)
  await until(() => copies(b, a.id).length === 1, 'the copy at B')
  expect(copies(b, a.id)).toEqual([`peer:${a.id}:public:live`])
  const hits = b.store.recall('arrives itself')
  expect(hits.map((h) => h.label)).toContain(`peer:${a.id}:public:live`)
  // And B is back to holding its next long-poll.
  await until(() => a.heldPolls() === 1, 'the next long-poll')
})

test('private and scope-excluded writes wake no one: B stays held, nothing is served until an in-scope write', async () => {
  const { a, b } = await pairedLive('public:team*')
  const before = pullLines(b, shortId(a.id)).length
  expect((await a.api('POST', '/memories', { label: 'secret:plan', content: 'never leaves A' })).status).toBe(201)
  expect((await a.api('POST', '/memories', { label: 'public:other', content: 'outside B scope' })).status).toBe(201)
  // The commit notification runs synchronously with the commit: had either woken B's request,
  // it would have left the registry before the 201 went out.
  expect(a.heldPolls()).toBe(1)
  expect(pullLines(b, shortId(a.id)).length).toBe(before)
  expect((await a.api('POST', '/memories', { label: 'public:team-x', content: 'for B' })).status).toBe(201)
  await until(() => copies(b, a.id).length === 1, 'the in-scope copy at B')
  expect(copies(b, a.id)).toEqual([`peer:${a.id}:public:team-x`])
  // Exactly one answer since B began to hold: the in-scope write's.
  const lines = pullLines(b, shortId(a.id)).slice(before)
  expect(lines).toHaveLength(1)
  expect(lines[0]).not.toContain('never leaves A')
})

test('a burst of 10,000 writes reaches B completely, in pages rather than 10,000 answers', async () => {
  // 10,000 writes one transaction each: not synced one by one (what is measured is delivery).
  const { a, b } = await pairedLive(undefined, { durable: false })
  const before = pullLines(b, shortId(a.id)).length
  const N = 10_000
  // 50 writes per turn of the event loop (each its own transaction), so B's held request is
  // woken while the burst is still going on.
  for (let i = 0; i < N; i += 50) {
    for (let j = 0; j < 50; j++) a.store.remember({ label: `public:burst-${i + j}`, content: `item ${i + j}` })
    await new Promise((r) => setImmediate(r))
  }
  await until(() => b.store.countPeerCopies(a.id) === N, 'all 10,000 copies at B', 60_000)
  const labels = copies(b, a.id)
  expect(new Set(labels).size).toBe(N)
  expect(labels.length).toBe(N)
  const answers = pullLines(b, shortId(a.id)).slice(before)
  const fetched = answers.map((l) => Number(/fetched=(\d+)/.exec(l)![1]))
  expect(fetched.reduce((x, y) => x + y, 0)).toBe(N)
  // Pages: each pull may hold several pages of up to 500; far fewer pulls than writes.
  expect(answers.length).toBeLessThan(N / 20)
}, 90_000)

test('a mass delete that arrives live in small answers is held once past half: the window adds the answers up', async () => {
  const a = await pods.start()
  const b = await pods.start()
  await addPeer(a, b, { sync: false })
  const ids = Array.from({ length: 200 }, (_, i) => a.store.remember({ label: `public:m${i}`, content: `memory ${i}` }).id)
  await addPeer(b, a)
  await until(() => b.store.countPeerCopies(a.id) === 200 && a.heldPolls() === 1, 'B caught up and live')
  // 150 deletions, a few per turn of the event loop: B's long-poll takes them in small answers.
  for (let i = 0; i < 150; i++) {
    a.store.forget(ids[i]!)
    if (i % 5 === 4) await new Promise((r) => setTimeout(r, 1))
  }
  // Every deletion reached B: applied while below the threshold, held once past it.
  await until(() => 200 - b.store.countPeerCopies(a.id) + b.store.peerState(a.id).held_deletes === 150, 'all 150 deletions at B')
  expect(b.store.peerState(a.id).held_deletes).toBeGreaterThan(0)
  expect(b.store.countPeerCopies(a.id)).toBeGreaterThanOrEqual(100) // at least half of what B held stays
  expect(pullLines(b, shortId(a.id)).length).toBeGreaterThan(2) // it did arrive in several answers
}, 60_000)
