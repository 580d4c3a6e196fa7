/**
 * A paired peer serves copies the puller would never accept from its own user —
 * 8 MiB contents, labels with control characters or over 256 chars — and then simply more than
 * anyone should store for it. Copies obey the puller's rules (dropped and counted, never
 * stored: db + WAL do not grow), and a per-peer quota (`max_peer_bytes` in pod.toml) stops the
 * flood: status `error` with `quota_exceeded`, nothing more stored.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { PodProcess } from '../helpers/pod-process'
import { entry, page, type ServedPeer } from './_contract'
import { copiesOf, pairedServer, peerRow, setPodToml, spawn, stopPods, syncNow } from './_fixture'

const MiB = 1024 * 1024
const QUOTA_BYTES = 200_000
const pods: PodProcess[] = []
const served: ServedPeer[] = []

afterAll(async () => {
  for (const s of served) await s.stop()
  await stopPods(pods)
})

function dbBytes(home: string): number {
  return ['pod.db', 'pod.db-wal'].map((f) => join(home, f)).reduce((n, p) => n + (existsSync(p) ? statSync(p).size : 0), 0)
}

describe('copies obey the puller rules', () => {
  let pod: PodProcess
  beforeAll(async () => {
    pod = await spawn()
    pods.push(pod)
  })

  test('eight 8 MiB public memories (one per page) are dropped and counted; the database does not grow', async () => {
    const big = 'x'.repeat(8 * MiB)
    const peer = await pairedServer(pod, (req) => {
      const n = req.json.since === null ? 0 : Number(req.json.since)
      return req.answer(page(peer.self.podId, [entry(`public:big-${n}`, big)], { cursor: String(n + 1), more: n + 1 < 8 }))
    })
    served.push(peer)
    const before = dbBytes(pod.home)
    const res = await syncNow(pod, peer.self.podId)
    expect(res.status).toBe(200)
    expect(res.body.results[0]).toMatchObject({ ok: true, fetched: 8, stored: 0, dropped: 8 })
    expect(await copiesOf(pod, peer.self.podId)).toEqual([])
    expect(dbBytes(pod.home) - before).toBeLessThan(4 * MiB)
    expect(pod.logs()).toMatch(new RegExp(`peer=${peer.self.podId.slice(0, 8)} op=sync .*dropped=8`))
  })

  test('control characters in labels, labels over 256 chars and content over max_content_bytes (even over 16 MiB) are dropped; the rest is stored', async () => {
    const peer = await pairedServer(pod, (req) =>
      req.answer(
        page(peer.self.podId, [
          entry('public:fine-1', 'ok'),
          entry('public:esc\u001b[2J', 'clears your screen'),
          entry('public:nul\u0000', 'nul in label'),
          entry('public:del\u007f', 'del in label'),
          entry('public:' + 'l'.repeat(250), 'label of 257 chars'),
          entry('public:too-big', 'y'.repeat(65_537)),
          entry('public:huge', 'h'.repeat(17 * MiB)),
          entry('public:fine-2', 'z'.repeat(65_536)),
        ]),
      ),
    )
    served.push(peer)
    const res = await syncNow(pod, peer.self.podId)
    expect(res.body.results[0]).toMatchObject({ ok: true, fetched: 8, stored: 2, dropped: 6 })
    const labels = (await copiesOf(pod, peer.self.podId)).map((m) => m.label).sort()
    expect(labels).toEqual([`peer:${peer.self.podId}:public:fine-1`, `peer:${peer.self.podId}:public:fine-2`])
  })

  test('dropped copies are counted in /metrics', async () => {
    const res = await fetch(`${pod.url}/metrics`, { headers: { authorization: `Bearer ${pod.token()}` } })
    expect(res.status).toBe(200)
    const text = await res.text()
    const dropped = text.split('\n').filter((l) => /dropped/.test(l) && !l.startsWith('#'))
    expect(dropped.length).toBeGreaterThan(0)
    expect(dropped.reduce((n, l) => n + Number(l.trim().split(/\s+/).pop()), 0)).toBeGreaterThanOrEqual(14)
  })
})

describe('per-peer quota', () => {
  test(`past max_peer_bytes (${QUOTA_BYTES}) the peer is in error with quota_exceeded and nothing more is stored`, async () => {
    // A home whose pod.toml sets a small quota, as an operator would.
    const first = await spawn()
    await first.stop()
    setPodToml(first.home, 'max_peer_bytes', String(QUOTA_BYTES))
    const pod = await spawn({ home: first.home })
    pods.push(pod)

    // 20 pages of 10 × 10 KB: 2 MB offered, ten times the quota.
    const peer = await pairedServer(pod, (req) => {
      const n = req.json.since === null ? 0 : Number(req.json.since)
      const memories = Array.from({ length: 10 }, (_, i) => entry(`public:q-${n}-${i}`, String(i).repeat(10_000)))
      return req.answer(page(peer.self.podId, memories, { cursor: String(n + 1), more: n + 1 < 20 }))
    })
    served.push(peer)
    const res = await syncNow(pod, peer.self.podId)
    expect(res.body.results[0]).toMatchObject({ ok: false, error: 'quota_exceeded' })
    const row = await peerRow(pod, peer.self.podId)
    expect(row?.status).toBe('error')
    expect(row?.last_error ?? '').toContain('quota_exceeded')
    const copies = await copiesOf(pod, peer.self.podId)
    const stored = copies.reduce((n, m) => n + m.content.length, 0)
    expect(stored).toBeLessThanOrEqual(QUOTA_BYTES)

    // A later pull stores nothing more.
    const again = await syncNow(pod, peer.self.podId)
    expect(again.body.results[0]).toMatchObject({ ok: false, error: 'quota_exceeded' })
    expect((await copiesOf(pod, peer.self.podId)).length).toBe(copies.length)
  })
})

describe('quota on tiny copies', () => {
  // 20,000 copies of one byte each: about 1.1 MB of label + content, but each is a row, with its
  // index entries and page overhead, that takes some 500 bytes on disk. Counted at label + content
  // only they fit a 2 MB quota many times over; the quota counts a per-row overhead (256 bytes).
  const QUOTA = 2_000_000
  const OVERHEAD = 256
  test('a flood of tiny copies is stopped by max_peer_bytes: each copy counts its row overhead', async () => {
    const first = await spawn()
    await first.stop()
    setPodToml(first.home, 'max_peer_bytes', String(QUOTA))
    const pod = await spawn({ home: first.home })
    pods.push(pod)
    const peer = await pairedServer(pod, (req) => {
      const n = req.json.since === null ? 0 : Number(req.json.since)
      const memories = Array.from({ length: 1000 }, (_, i) => entry(`public:t-${n}-${i}`, 'x'))
      return req.answer(page(peer.self.podId, memories, { cursor: String(n + 1), more: n + 1 < 20 }))
    })
    served.push(peer)
    const res = await syncNow(pod, peer.self.podId)
    expect(res.body.results[0]).toMatchObject({ ok: false, error: 'quota_exceeded' })
    const copies = await copiesOf(pod, peer.self.podId)
    const counted = copies.reduce((n, m) => n + Buffer.byteLength(m.label) + Buffer.byteLength(m.content) + OVERHEAD, 0)
    expect(counted).toBeLessThanOrEqual(QUOTA)
    expect(copies.length).toBeGreaterThan(0)
  })
})
