/**
 * The access log (`GET /peer/peers/:id/log`) tells the operator what each peer received. One
 * chatty peer pulling pages with entries at its nonce budget (20,000 requests per 600 s) writes
 * 100,000 log rows in about 50 minutes; with one cap for the whole table that evicted every other
 * peer's entries. The cap is per peer: the chatty peer's rows push out only its own.
 *
 * The 50 minutes are not waited out: the rows the flood would have left are written into the
 * stopped pod's database (same columns the log shows: time, peer, count, tombstones, first and
 * last id), then the chatty peer keeps pulling for real.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { join } from 'node:path'
import type { PodProcess } from '../helpers/pod-process'
import { syncCall, type KeyPair, type PodTarget } from './_contract'
import { pairedCaller, podTarget, spawn, stopPods } from './_fixture'

const FLOOD_ROWS = 100_000
const LIVE_PULLS = 300

const pods: PodProcess[] = []
let quiet: { self: KeyPair; target: PodTarget }
let chatty: { self: KeyPair; target: PodTarget }
let quietEntry: { first_id: string; count: number }

beforeAll(async () => {
  const pod = await spawn()
  pods.push(pod)
  await pod.api('POST', '/memories', { label: 'public:status', content: 'all systems go' })
  quiet = await pairedCaller(pod)
  chatty = await pairedCaller(pod)
  const got = await syncCall(quiet.self, quiet.target, { since: null, scope: ['*'], limit: 10 })
  expect(got.page!.memories).toHaveLength(1)
  const log = await pod.api('GET', `/peer/peers/${quiet.self.podId}/log`)
  expect(log.body.entries).toHaveLength(1)
  quietEntry = log.body.entries[0]
  await pod.stop()

  const db = new Database(join(pod.home, 'pod.db'))
  const insert = db.query('INSERT INTO access_log (at_ms, peer_id, count, deleted, first_id, last_id) VALUES (?, ?, 1, 0, ?, ?)')
  const now = Date.now()
  db.transaction(() => {
    for (let i = 0; i < FLOOD_ROWS; i++) insert.run(now - (FLOOD_ROWS - i) * 30, chatty.self.podId, quietEntry.first_id, quietEntry.first_id)
  })()
  db.close()
})
afterAll(async () => {
  await stopPods(pods)
})

test('a chatty peer at its nonce budget does not evict another peer from the access log', async () => {
  const pod = await spawn({ home: pods[0]!.home })
  pods.push(pod)
  const target = await podTarget(pod)
  for (let i = 0; i < LIVE_PULLS; i++) {
    const res = await syncCall(chatty.self, target, { since: null, scope: ['*'], limit: 10 })
    expect(res.status).toBe(200)
  }
  const log = await pod.api('GET', `/peer/peers/${quiet.self.podId}/log`)
  expect(log.status).toBe(200)
  expect(log.body.entries).toEqual([quietEntry])
  // The chatty peer still sees its own recent pulls.
  const own = await pod.api('GET', `/peer/peers/${chatty.self.podId}/log?limit=10`)
  expect(own.body.entries).toHaveLength(10)
})
