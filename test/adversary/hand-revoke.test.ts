/**
 * Revoking by hand (contract Part 1: "Delete either [table or key file] … and the very next
 * request from that peer is refused, without a restart"), against a real pod process, with
 * requests built from the contract alone. A hub looks at peers.toml once for all the requests
 * one turn of its event loop reads; these check that the requests sent after an edit, alone or
 * in a burst beside another peer's, are refused, and that the other peer is still served.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { PodProcess } from '../helpers/pod-process'
import { syncCall } from './_contract'
import { pairedCaller, spawn, stopPods } from './_fixture'

let pod: PodProcess
beforeAll(async () => {
  pod = await spawn()
})
afterAll(() => stopPods([pod]))

const ask = { since: null, scope: ['public:*'], limit: 10, wait: 0 }

/** peers.toml without `id`'s table, as an operator's editor would leave it. */
function removeTableByHand(id: string): void {
  const path = join(pod.home, 'peers.toml')
  const text = readFileSync(path, 'utf8')
  const start = text.indexOf(`[peers.${id}]`)
  expect(start).toBeGreaterThanOrEqual(0)
  const next = text.indexOf('\n[', start + 1)
  writeFileSync(path, text.slice(0, start) + (next < 0 ? '' : text.slice(next + 1)))
}

test("a table removed by hand: the peer's very next request is refused, another peer's is served", async () => {
  const gone = await pairedCaller(pod)
  const kept = await pairedCaller(pod)
  expect((await syncCall(gone.self, gone.target, ask)).status).toBe(200)
  expect((await syncCall(kept.self, kept.target, ask)).status).toBe(200)
  removeTableByHand(gone.self.podId)
  expect((await syncCall(gone.self, gone.target, ask)).status).toBe(401)
  expect((await syncCall(kept.self, kept.target, ask)).status).toBe(200)
})

test('a burst after the edit, both peers at once: every request of the removed peer is refused', async () => {
  const gone = await pairedCaller(pod)
  const kept = await pairedCaller(pod)
  // Both peers' connections are open and warm, so the burst reaches the pod together.
  await Promise.all([syncCall(gone.self, gone.target, ask), syncCall(kept.self, kept.target, ask)])
  removeTableByHand(gone.self.podId)
  const answers = await Promise.all(
    Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? syncCall(gone.self, gone.target, ask) : syncCall(kept.self, kept.target, ask))),
  )
  expect(answers.map((a) => a.status)).toEqual([401, 200, 401, 200, 401, 200, 401, 200])
})

test("a key file deleted by hand: the peer's very next request is refused", async () => {
  const gone = await pairedCaller(pod)
  expect((await syncCall(gone.self, gone.target, ask)).status).toBe(200)
  rmSync(join(pod.home, 'peer-keys', 'peers', `${gone.self.podId}.key`))
  expect((await syncCall(gone.self, gone.target, ask)).status).toBe(401)
})
