/**
 * Issue 8 row 4: a paired peer answers every page slowly with `more: true`, forever. Its pull
 * must not hold anyone hostage: another peer's pull goes ahead meanwhile, and removing (with
 * --purge), pausing or deleting the key file of the slow peer stops its pull in flight, with
 * nothing stored after it. And the mass-delete guard: a pull that would delete more than half
 * of a peer's copies (and more than 100) is held until the operator accepts it.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { runCli, type PodProcess } from '../helpers/pod-process'
import { entry, page, type PullRequestSeen, type ServedPeer } from './_contract'
import { copiesOf, pairedServer, peerRow, spawn, stopPods, syncNow, until } from './_fixture'

/** Safety nets only: an honest pull takes milliseconds; the hostage pull never ends by itself. */
const HONEST_BOUND_MS = 10_000
const SETTLE_MS = 1_500

let pod: PodProcess
const pods: PodProcess[] = []
const served: ServedPeer[] = []

/** Each block gets its own pod, so a hostage that did get through cannot spoil the next block. */
async function freshPod() {
  pod = await spawn()
  pods.push(pod)
}
afterAll(async () => {
  for (const s of served) await s.stop()
  await stopPods(pods)
})

/** A peer that answers each page after `delayMs` with one new memory and `more: true`, forever. */
async function slowForever(delayMs: number): Promise<ServedPeer> {
  const peer = await pairedServer(pod, async (req: PullRequestSeen) => {
    const n = req.json.since === null ? 0 : Number(req.json.since)
    await Bun.sleep(delayMs)
    return req.answer(page(peer.self.podId, [entry(`public:slow-${n}`, `page ${n}`)], { cursor: String(n + 1), more: true }))
  })
  served.push(peer)
  return peer
}

function settled<T>(p: Promise<T>, ms: number): Promise<T | 'still running'> {
  return Promise.race([p, new Promise<'still running'>((r) => setTimeout(() => r('still running'), ms))])
}

describe('a slow peer holds nobody hostage', () => {
  beforeAll(freshPod)
  test("another peer's pull goes ahead while the slow peer's pull is in flight", async () => {
    const slow = await slowForever(2_500)
    const honest = await pairedServer(pod, (req) => req.answer(page(honest.self.podId, [entry('public:news', 'on time')])))
    served.push(honest)
    const hostage = syncNow(pod, slow.self.podId)
    await until(() => slow.pulls > 0)

    const res = await settled(syncNow(pod, honest.self.podId), HONEST_BOUND_MS)
    expect(res).not.toBe('still running')
    expect((res as { body: { results: unknown[] } }).body.results[0]).toMatchObject({ peer: honest.self.podId, ok: true, stored: 1 })
    expect((await copiesOf(pod, honest.self.podId)).map((m) => m.content)).toEqual(['on time'])

    // Clean up the hostage: removing it must end its pull (checked in detail below).
    await pod.api('DELETE', `/peer/peers/${slow.self.podId}?purge=true`)
    expect(await settled(hostage, HONEST_BOUND_MS)).not.toBe('still running')
  })
})

describe('remove, pause and key-file deletion stop the pull in flight', () => {
  beforeEach(freshPod)
  async function startHostage() {
    const slow = await slowForever(200)
    const pull = syncNow(pod, slow.self.podId)
    await until(async () => (await copiesOf(pod, slow.self.podId)).length >= 3)
    return { slow, pull }
  }

  test('remove --purge: the pull ends, nothing is stored after the removal, no more requests', async () => {
    const { slow, pull } = await startHostage()
    const res = await pod.api('DELETE', `/peer/peers/${slow.self.podId}?purge=true`)
    expect(res.status).toBe(200)
    const pullsAtRemoval = slow.pulls
    expect(await copiesOf(pod, slow.self.podId)).toEqual([])
    expect(await settled(pull, HONEST_BOUND_MS)).not.toBe('still running')
    await Bun.sleep(SETTLE_MS)
    expect(await copiesOf(pod, slow.self.podId)).toEqual([])
    expect(slow.pulls - pullsAtRemoval).toBeLessThanOrEqual(1) // at most the request already on the wire
  })

  test('pause: the pull ends and nothing is stored after the pause', async () => {
    const { slow, pull } = await startHostage()
    const res = await pod.api('PATCH', `/peer/peers/${slow.self.podId}`, { sync: false })
    expect(res.status).toBe(200)
    const atPause = (await copiesOf(pod, slow.self.podId)).length
    const pullsAtPause = slow.pulls
    expect(await settled(pull, HONEST_BOUND_MS)).not.toBe('still running')
    await Bun.sleep(SETTLE_MS)
    expect((await copiesOf(pod, slow.self.podId)).length).toBe(atPause)
    expect(slow.pulls - pullsAtPause).toBeLessThanOrEqual(1)
    expect((await peerRow(pod, slow.self.podId))?.status).toBe('paused')
  })

  test('deleting the key file: the pull ends and nothing more is stored', async () => {
    const { slow, pull } = await startHostage()
    rmSync(join(pod.home, 'peer-keys', 'peers', `${slow.self.podId}.key`))
    expect(await settled(pull, HONEST_BOUND_MS)).not.toBe('still running')
    const afterEnd = (await copiesOf(pod, slow.self.podId)).length
    const pullsAfterEnd = slow.pulls
    await Bun.sleep(SETTLE_MS)
    expect((await copiesOf(pod, slow.self.podId)).length).toBe(afterEnd)
    expect(slow.pulls).toBe(pullsAfterEnd)
    expect((await peerRow(pod, slow.self.podId))?.status).toBe('revoked')
  })
})

describe('mass-delete guard', () => {
  beforeAll(freshPod)
  /** Serves `count` memories on the first pull; on later pulls, tombstones for the first `deletes`. */
  async function shrinkingPeer(count: number, deletes: number) {
    const ids = Array.from({ length: count }, () => crypto.randomUUID())
    const peer = await pairedServer(pod, (req) => {
      if (req.json.since === null)
        return req.answer(
          page(
            peer.self.podId,
            ids.map((id, i) => entry(`public:m-${i}`, `memory ${i}`, id)),
            { cursor: 'full' },
          ),
        )
      return req.answer(
        page(
          peer.self.podId,
          ids.slice(0, deletes).map((id) => ({ id, deleted: true })),
          { cursor: 'shrunk' },
        ),
      )
    })
    served.push(peer)
    const first = await syncNow(pod, peer.self.podId)
    expect(first.body.results[0]).toMatchObject({ ok: true, stored: count })
    return peer
  }

  test('deleting 150 of 200 copies is held: status held, last_error says how many, nothing deleted until accepted', async () => {
    const peer = await shrinkingPeer(200, 150)
    const held = await syncNow(pod, peer.self.podId)
    expect(held.status).toBe(200)
    expect(held.body.results[0]).toMatchObject({ deleted: 0 })
    const row = await peerRow(pod, peer.self.podId)
    expect(row?.status).toBe('held')
    expect(row?.last_error ?? '').toContain('150')
    expect((await copiesOf(pod, peer.self.podId)).length).toBe(200)

    // Still held on the next pull.
    await syncNow(pod, peer.self.podId)
    expect((await copiesOf(pod, peer.self.podId)).length).toBe(200)

    // The operator accepts, as the issue names it: `mazemaker peer accept-deletes <id>`.
    const accept = await runCli(['peer', 'accept-deletes', peer.self.podId, '--home', pod.home])
    expect(accept.code).toBe(0)
    expect((await copiesOf(pod, peer.self.podId)).length).toBe(50)
    await syncNow(pod, peer.self.podId)
    expect((await copiesOf(pod, peer.self.podId)).length).toBe(50)
    expect((await peerRow(pod, peer.self.podId))?.status).toBe('ready')
  })

  test('deleting 40 of 60 copies (not more than 100) goes through', async () => {
    const peer = await shrinkingPeer(60, 40)
    const res = await syncNow(pod, peer.self.podId)
    expect(res.body.results[0]).toMatchObject({ ok: true, deleted: 40 })
    expect((await copiesOf(pod, peer.self.podId)).length).toBe(20)
  })
})
