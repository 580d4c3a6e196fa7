/**
 * The access log end to end: the pages a pod serves a peer show in GET /peer/peers/:id/log, each
 * linked to the one before, with the peer's served total beside them. The deno pass runs this
 * with pods under Deno, where the log's batched writes go through node:sqlite.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { identityOf, pair, remember, syncNow } from '../helpers/federation'
import { cleanup, spawnPod, type PodProcess } from '../helpers/pod-process'

let a: PodProcess, b: PodProcess, c: PodProcess
beforeAll(async () => {
  ;[a, b, c] = await Promise.all([spawnPod(), spawnPod(), spawnPod()])
  await Promise.all([pair(a, b), pair(a, c)])
})
afterAll(() => cleanup([a, b, c]))

interface LogEntry {
  at: string
  count: number
  deleted: number
  first_id: string
  last_id: string
}

test('each pull of a peer is a row of its own log, newest first; another peer has its own', async () => {
  const [idB, idC] = [(await identityOf(b)).pod_id, (await identityOf(c)).pod_id]
  const first = await remember(a, 'public:one', '1')
  const second = await remember(a, 'public:two', '2')
  expect((await syncNow(b))[0]!.ok).toBe(true)
  expect((await syncNow(c))[0]!.ok).toBe(true)
  const third = await remember(a, 'public:three', '3')
  expect((await syncNow(b))[0]!.ok).toBe(true)
  const log = await a.api<{ entries: LogEntry[] }>('GET', `/peer/peers/${idB}/log`)
  expect(log.status).toBe(200)
  expect(log.body.entries.map((e) => [e.count, e.first_id, e.last_id])).toEqual([
    [1, third, third],
    [2, first, second],
  ])
  const ofC = await a.api<{ entries: LogEntry[] }>('GET', `/peer/peers/${idC}/log`)
  expect(ofC.body.entries.map((e) => [e.count, e.first_id, e.last_id])).toEqual([[2, first, second]])
  const peers = await a.api<{ peers: { id: string }[] }>('GET', '/peer/peers')
  expect(peers.body.peers.map((p) => p.id).sort()).toEqual([idB, idC].sort())
})
