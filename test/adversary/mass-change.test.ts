/**
 * The mass-change guard, both ways round. A paired peer that deletes or overwrites more than
 * half of the copies we hold from it (at least 100) within 24 h is held for the operator,
 * however it spreads that over pulls, and a restart in between does not reset the count: 1,000
 * copies deleted 200 at a time keep at least half here, status `held`; all 500 copies
 * overwritten in one pull keep their old content, status `held`, until the operator accepts.
 * And below the threshold nothing crawls: a single memory forgotten at a live peer is gone here
 * before a memory written after it arrives (order and presence, not timing).
 */
import { afterAll, expect, test } from 'bun:test'
import type { PodProcess } from '../helpers/pod-process'
import { entry, page, type ServedPeer } from './_contract'
import { copiesOf, pairedServer, peerRow, spawn, stopPods, syncNow, until } from './_fixture'

const pods: PodProcess[] = []
const served: ServedPeer[] = []
afterAll(async () => {
  for (const s of served) await s.stop()
  await stopPods(pods)
})

/** A peer whose feed the test scripts: `feed[n]` is what it answers to cursor n (then "nothing new"). */
function scriptedFeed(feed: unknown[][]) {
  return (req: { json: { since: string | null }; answer(p: unknown): Response }, podId: string) => {
    const n = req.json.since === null ? 0 : Number(req.json.since)
    const memories = feed[n] ?? []
    return req.answer(page(podId, memories, { cursor: String(n < feed.length ? n + 1 : n) }))
  }
}

test('1,000 copies deleted 200 per pull, with a restart between pulls: at least half stay, the peer is held', async () => {
  const ids = Array.from({ length: 1000 }, () => crypto.randomUUID())
  const feed: unknown[][] = [ids.map((id, i) => entry(`public:m${i}`, `memory ${i}`, id))]
  for (let p = 0; p < 5; p++) feed.push(ids.slice(p * 200, p * 200 + 200).map((id) => ({ id, deleted: true })))
  let pod = await spawn()
  pods.push(pod)
  const handler = scriptedFeed(feed)
  const peer = await pairedServer(pod, (req) => handler(req, peer.self.podId))
  served.push(peer)
  expect((await syncNow(pod, peer.self.podId)).body.results[0]).toMatchObject({ ok: true, stored: 1000 })
  for (let p = 0; p < 5; p++) {
    if (p === 3) {
      await pod.stop()
      pod = await spawn({ home: pod.home })
      pods.push(pod)
      peer.pod = { ...peer.pod!, url: pod.url }
    }
    expect((await syncNow(pod, peer.self.podId)).status).toBe(200)
  }
  expect((await copiesOf(pod, peer.self.podId)).length).toBeGreaterThanOrEqual(500)
  const row = await peerRow(pod, peer.self.podId)
  expect(row?.status).toBe('held')
  expect(row?.last_error ?? '').toContain('accept-deletes')
}, 120_000)

test('all 500 copies overwritten in one pull: held, the old versions stay until the operator accepts', async () => {
  const ids = Array.from({ length: 500 }, () => crypto.randomUUID())
  const later = '2030-01-01T00:00:00.000Z'
  const feed: unknown[][] = [
    ids.map((id, i) => entry(`public:m${i}`, `memory ${i}`, id)),
    ids.map((id, i) => ({ id, label: `public:m${i}`, content: `rewritten by the peer ${i}`, created_at: later, updated_at: later })),
  ]
  const pod = await spawn()
  pods.push(pod)
  const handler = scriptedFeed(feed)
  const peer = await pairedServer(pod, (req) => handler(req, peer.self.podId))
  served.push(peer)
  expect((await syncNow(pod, peer.self.podId)).body.results[0]).toMatchObject({ ok: true, stored: 500 })
  const second = await syncNow(pod, peer.self.podId)
  expect(second.body.results[0]).toMatchObject({ ok: true, held: 500 })
  expect((await peerRow(pod, peer.self.podId))?.status).toBe('held')
  const kept = await copiesOf(pod, peer.self.podId)
  expect(kept).toHaveLength(500)
  expect(kept.every((m) => m.content.startsWith('memory '))).toBe(true)

  const accepted = await pod.api('POST', `/peer/peers/${peer.self.podId}/accept-deletes`)
  expect(accepted.status).toBe(200)
  expect(accepted.body.deleted).toBe(500)
  expect((await copiesOf(pod, peer.self.podId)).every((m) => m.content.startsWith('rewritten by the peer '))).toBe(true)
  expect((await peerRow(pod, peer.self.podId))?.status).not.toBe('held')
}, 120_000)

test('below the threshold a forget reaches a live peer as fast as a write: gone before the next memory arrives', async () => {
  const live = { MAZEMAKER_LIVE_WAIT: '50' }
  const a = await spawn({ env: live })
  const b = await spawn({ env: live })
  pods.push(a, b)
  const ids: string[] = []
  for (let i = 0; i < 200; i++) ids.push((await a.api('POST', '/memories', { label: `public:note-${i}`, content: `note ${i}` })).body.id)
  const idA = (await a.api('GET', '/peer/identity')).body
  const idB = (await b.api('GET', '/peer/identity')).body
  expect((await a.api('POST', '/peer/add', { handshake_url: idB.handshake_url, direct_url: b.url, sync: false })).status).toBe(201)
  expect((await b.api('POST', '/peer/add', { handshake_url: idA.handshake_url, direct_url: a.url, sync: true })).status).toBe(201)
  await until(async () => (await copiesOf(b, idA.pod_id)).length === 200, 30_000)

  for (const n of [0, 1, 2]) {
    // One forget, then a write: the write arriving at B proves B has pulled past the forget.
    expect((await a.api('DELETE', `/memories/${ids[n]}`)).status).toBe(204)
    const marker = `public:after-forget-${n}`
    expect((await a.api('POST', '/memories', { label: marker, content: 'written after the forget' })).status).toBe(201)
    const labels = await until(async () => {
      const l = (await copiesOf(b, idA.pod_id)).map((m) => m.label)
      return l.includes(`peer:${idA.pod_id}:${marker}`) ? l : undefined
    }, 30_000)
    expect(labels).not.toContain(`peer:${idA.pod_id}:public:note-${n}`)
  }
  expect((await peerRow(b, idA.pod_id))?.status).toBe('ready')
}, 120_000)
