/**
 * A paired peer answers every page slowly with `more: true`, forever. Its pull
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

/** Safety net only: an honest pull takes milliseconds; the hostage pull never ends by itself. */
const HONEST_BOUND_MS = 10_000

let pod: PodProcess
const pods: PodProcess[] = []
const served: ServedPeer[] = []
const hostages: Hostage[] = []

/** Each block gets its own pod, so a hostage that did get through cannot spoil the next block. */
async function freshPod() {
  pod = await spawn()
  pods.push(pod)
}
afterAll(async () => {
  for (const h of hostages) h.release()
  for (const s of served) await s.stop()
  await stopPods(pods)
})

interface Hostage {
  peer: ServedPeer
  /** Requests the peer has received and not answered yet. */
  readonly holding: number
  /** From now on every request, the ones held included, is answered at once. */
  release(): void
}

/**
 * A peer that answers every page with one new memory and `more: true`, forever: the first
 * `free` pages at once, every later one only when the test calls release(). The held request
 * is a pull in flight for as long as the test wants, without a real sleep deciding anything.
 */
async function hostagePeer(free: number): Promise<Hostage> {
  const gate = Promise.withResolvers<void>()
  let holding = 0
  const peer = await pairedServer(pod, async (req: PullRequestSeen) => {
    const n = req.json.since === null ? 0 : Number(req.json.since)
    if (n >= free) {
      holding++
      await gate.promise
      holding--
    }
    return req.answer(page(peer.self.podId, [entry(`public:slow-${n}`, `page ${n}`)], { cursor: String(n + 1), more: true }))
  })
  served.push(peer)
  const hostage: Hostage = {
    peer,
    get holding() {
      return holding
    },
    release: () => gate.resolve(),
  }
  hostages.push(hostage)
  return hostage
}

/** The pull's own result once it ended: stopped for `why`, not run into a timeout. */
async function endedFor(pull: ReturnType<typeof syncNow>, why: string) {
  const res = await settled(pull, HONEST_BOUND_MS)
  expect(res).not.toBe('still running')
  expect((res as Awaited<typeof pull>).body.results[0]).toMatchObject({ ok: false, error: why })
}

function settled<T>(p: Promise<T>, ms: number): Promise<T | 'still running'> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const bound = new Promise<'still running'>((r) => {
    timer = setTimeout(() => r('still running'), ms)
  })
  return Promise.race([p, bound]).finally(() => clearTimeout(timer))
}

/**
 * The barrier behind "nothing happens afterwards": the hostile peer has answered every request
 * it received (each answer is on the wire, and any page the pod would still take is one round
 * trip away), then a whole sync round of the pod runs, then one more request to the pod.
 * Returns what the pod holds from the peer and how many pulls reached the peer by then.
 */
async function afterEverything(h: Hostage) {
  await until(() => h.holding === 0)
  const pullsBefore = h.peer.pulls
  const round = await syncNow(pod)
  expect(round.status).toBe(200)
  // The peer (removed, paused or revoked) is not pulled: no request reaches it, nothing is stored.
  expect(h.peer.pulls).toBe(pullsBefore)
  const mine = (round.body.results as { peer: string; ok: boolean; stored: number }[]).find((r) => r.peer === h.peer.self.podId)
  if (mine) expect(mine).toMatchObject({ ok: false, stored: 0 })
  return { copies: await copiesOf(pod, h.peer.self.podId), pulls: h.peer.pulls }
}

describe('a slow peer holds nobody hostage', () => {
  beforeAll(freshPod)
  test("another peer's pull goes ahead while the slow peer's pull is in flight", async () => {
    const slow = await hostagePeer(0)
    const honest = await pairedServer(pod, (req) => req.answer(page(honest.self.podId, [entry('public:news', 'on time')])))
    served.push(honest)
    const hostage = syncNow(pod, slow.peer.self.podId)
    await until(() => slow.holding > 0)

    const res = await settled(syncNow(pod, honest.self.podId), HONEST_BOUND_MS)
    expect(res).not.toBe('still running')
    expect((res as { body: { results: unknown[] } }).body.results[0]).toMatchObject({ peer: honest.self.podId, ok: true, stored: 1 })
    expect((await copiesOf(pod, honest.self.podId)).map((m) => m.content)).toEqual(['on time'])
    expect(slow.holding).toBe(1) // the honest pull did not wait for the slow one to answer

    // Clean up the hostage: removing it must end its pull (checked in detail below).
    await pod.api('DELETE', `/peer/peers/${slow.peer.self.podId}?purge=true`)
    expect(await settled(hostage, HONEST_BOUND_MS)).not.toBe('still running')
  })
})

describe('remove, pause and key-file deletion stop the pull in flight', () => {
  beforeEach(freshPod)
  /** Three pages stored at once, the fourth request held at the peer: a pull in flight. */
  async function startHostage() {
    const slow = await hostagePeer(3)
    const pull = syncNow(pod, slow.peer.self.podId)
    await until(() => slow.holding > 0)
    expect((await copiesOf(pod, slow.peer.self.podId)).length).toBeGreaterThanOrEqual(3)
    return { slow, id: slow.peer.self.podId, pull }
  }

  test('remove --purge: the pull ends, nothing is stored after the removal, no more requests', async () => {
    const { slow, id, pull } = await startHostage()
    const res = await pod.api('DELETE', `/peer/peers/${id}?purge=true`)
    expect(res.status).toBe(200)
    const pullsAtRemoval = slow.peer.pulls
    expect(await copiesOf(pod, id)).toEqual([])
    // The held page is answered after the removal, and every later page at once.
    slow.release()
    await endedFor(pull, 'removed')
    const after = await afterEverything(slow)
    expect(after.copies).toEqual([])
    expect(after.pulls - pullsAtRemoval).toBeLessThanOrEqual(1) // at most the request already on the wire
  })

  test('pause: the pull ends and nothing is stored after the pause', async () => {
    const { slow, id, pull } = await startHostage()
    const res = await pod.api('PATCH', `/peer/peers/${id}`, { sync: false })
    expect(res.status).toBe(200)
    const atPause = (await copiesOf(pod, id)).length
    const pullsAtPause = slow.peer.pulls
    slow.release()
    await endedFor(pull, 'paused')
    const after = await afterEverything(slow)
    expect(after.copies.length).toBe(atPause)
    expect(after.pulls - pullsAtPause).toBeLessThanOrEqual(1)
    expect((await peerRow(pod, id))?.status).toBe('paused')
  })

  test('deleting the key file: the pull ends and nothing more is stored', async () => {
    const { slow, id, pull } = await startHostage()
    rmSync(join(pod.home, 'peer-keys', 'peers', `${id}.key`))
    // A hand edit: the pod's own relationship watchdog has to notice it while the page is held
    // (not the connect timeout: the peer would hold the page for ever).
    await endedFor(pull, 'revoked')
    const afterEnd = (await copiesOf(pod, id)).length
    const pullsAfterEnd = slow.peer.pulls
    slow.release()
    const after = await afterEverything(slow)
    expect(after.copies.length).toBe(afterEnd)
    expect(after.pulls).toBe(pullsAfterEnd)
    expect((await peerRow(pod, id))?.status).toBe('revoked')
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
