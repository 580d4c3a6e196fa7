/**
 * A hub's loop re-plans after every pull; reading the peer list stats every key file (2,000 on a
 * hub), so the loop reads it at most once per RELATIONSHIP_CHECK_MS of its clock, and at once
 * after a change it is told about. Real pod (keys, peers.toml) on an injected clock; the peers
 * all point at a closed port, so every pull fails at once and the loop re-plans as fast as it can.
 */
import { afterEach, expect, test } from 'bun:test'
import { randomBytes, randomUUID } from 'node:crypto'
import { rmSync } from 'node:fs'
import type { PodId, PublicKey } from '../../src/identity'
import { FakeClock } from '../../src/lib/clock'
import { memoryLogger } from '../../src/lib/log'
import { type Pod, startPod } from '../../src/pod'
import { BACKOFF_BASE_MS, RELATIONSHIP_CHECK_MS } from '../../src/sync/constants'
import type { SyncLoop } from '../../src/sync/sync-loop'
import { tempHome } from '../helpers/pod-process'
import { syncLoopInto } from '../helpers/sync-loop'
import { waitFor } from './_served-peer'

let pod: Pod | null = null
let loop: SyncLoop | null = null
let home = ''
afterEach(async () => {
  await loop?.close()
  await pod?.close()
  rmSync(home, { recursive: true, force: true })
})

test('40 peers failing at once: the loop re-plans after each pull but reads the peer list once per second, and at once after a change', async () => {
  const clock = new FakeClock()
  home = tempHome('mzm-hub-')
  pod = await startPod({ home, port: 0, host: '127.0.0.1', clock, log: memoryLogger(), autoSync: false })
  for (let i = 0; i < 40; i++) {
    pod.home.peers.add({ id: randomUUID() as PodId, key: randomBytes(32).toString('base64url') as PublicKey, url: 'http://127.0.0.1:9' })
  }
  let reads = 0
  const failed: string[] = []
  const pulling = syncLoopInto(pod, clock, {
    listPeers: () => {
      reads++
      return pod!.home.peers.list().peers
    },
    onPulled: (_, r) => failed.push(r.error ?? 'ok'),
  })
  loop = pulling.loop
  loop.start()
  await waitFor(() => failed.length === 40, 10_000, 'all 40 pulls failed')
  expect(new Set(failed)).toEqual(new Set(['request_failed']))
  expect(reads).toBe(1) // 40 re-plans, no second read within the same second of the loop's clock

  // Backed off 5 s: all due again, one read for the next 40 re-plans.
  expect(BACKOFF_BASE_MS).toBeGreaterThanOrEqual(RELATIONSHIP_CHECK_MS)
  clock.advance(BACKOFF_BASE_MS)
  await waitFor(() => failed.length === 80, 10_000, 'the 40 retries failed')
  expect(reads).toBe(2)
  loop.peerChanged(randomUUID())
  await waitFor(() => reads === 3, 5_000, 'a read at once after a change')
})
