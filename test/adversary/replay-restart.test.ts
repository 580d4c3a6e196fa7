/**
 * A signed /peer/sync captured on the wire is replayed after the callee
 * restarted, within the 300 s timestamp window. The nonce cache must not be the only defence:
 * the replay is refused with 401 `replay` by the restarted pod (a real process restart on the
 * same home), while a request signed after the restart is served.
 */
import { afterAll, expect, test } from 'bun:test'
import type { PodProcess } from '../helpers/pod-process'
import { buildSyncRequest, sendSyncRequest, syncCall } from './_contract'
import { pairedCaller, podTarget, spawn, stopPods } from './_fixture'

const pods: PodProcess[] = []
afterAll(async () => {
  await stopPods(pods)
})

test('a request captured before a restart is refused after it (replay); a new one is served', async () => {
  const first = await spawn()
  pods.push(first)
  await first.api('POST', '/memories', { label: 'public:before', content: 'served before the restart' })
  const { self, target } = await pairedCaller(first)
  const captured = buildSyncRequest(self, target, { since: null, scope: ['public:*'], limit: 10 })
  const original = await sendSyncRequest(target, self, captured)
  expect(original.status).toBe(200)
  expect(original.page!.memories.map((m) => m.label)).toEqual(['public:before'])
  expect(await sendSyncRequest(target, self, captured)).toMatchObject({ status: 401, error: 'replay' })

  expect(await first.stop()).toBe(0)
  const second = await spawn({ home: first.home })
  pods.push(second)
  const again = { ...target, url: second.url }
  expect((await podTarget(second)).podId).toBe(target.podId)

  // The very bytes of the captured request, well within the ±300 s window.
  const replayed = await sendSyncRequest(again, self, captured)
  expect(replayed).toMatchObject({ status: 401, error: 'replay' })
  expect(replayed.page).toBeUndefined()

  // An honest request signed after the restart (a second later, so it is unambiguously after) works.
  const fresh = await sendSyncRequest(
    again,
    self,
    buildSyncRequest(self, again, { since: null, scope: ['public:*'], limit: 10 }, { tsS: Math.floor(Date.now() / 1000) + 1 }),
  )
  expect(fresh.status).toBe(200)
  expect(fresh.page!.memories.map((m) => m.label)).toEqual(['public:before'])
  expect((await syncCall(self, again, { since: null, scope: ['public:*'], limit: 10 })).status).toBe(200)
})
