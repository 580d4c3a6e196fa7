/**
 * A signed request captured before the callee restarts is refused after it
 * (`replay`), with real pod processes restarted on the same home, while honest peers whose
 * clocks are up to 300 s ahead or behind still get through right after the restart.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import { formatHandshakeUrl, openHome, type Identity, type PodId, type PublicKey } from '../../src/identity'
import { sealSyncRequest } from '../../src/protocol'
import { memoryLogger } from '../../src/lib/log'
import { spawnPod, tempHome, type PodProcess } from '../helpers/pod-process'
import { identityOf, remember } from '../helpers/federation'

let pod: PodProcess
let homeA: string
let homeB: string
let asB: Identity
let idA: PodId
let keyA: PublicKey

beforeAll(async () => {
  homeA = tempHome()
  homeB = tempHome()
  pod = await spawnPod({ home: homeA })
  asB = (await openHome(homeB, { log: memoryLogger() })).identity
  const add = await pod.api('POST', '/peer/add', { handshake_url: formatHandshakeUrl({ podId: asB.podId, key: asB.publicKey }) })
  expect(add.status).toBe(201)
  const id = await identityOf(pod)
  idA = id.pod_id as PodId
  keyA = id.key as PublicKey
  await remember(pod, 'public:r', 'replayable?')
})
afterAll(async () => {
  await pod.stop()
  rmSync(homeA, { recursive: true, force: true })
  rmSync(homeB, { recursive: true, force: true })
})

/** A request B signs now, as if B's clock were `skewS` seconds off; `send` can replay it verbatim. */
async function captured(skewS: number) {
  const sent = sealSyncRequest({
    pairKey: await asB.pairKey(idA, keyA),
    callerId: asB.podId,
    calleeId: idA,
    request: { since: null, scope: ['public:*'], limit: 10 },
    nowMs: Date.now() + skewS * 1000,
  })
  return async (to: PodProcess) => {
    const res = await fetch(`${to.url}/peer/sync`, { method: 'POST', headers: sent.headers, body: sent.body as Uint8Array<ArrayBuffer> })
    return { status: res.status, error: res.status === 200 ? undefined : ((await res.json()) as { error: string }).error }
  }
}

test('a request captured before a restart (SIGTERM or kill -9) is a replay after it', async () => {
  // B's clock 200 s ahead: refusing only requests signed before the restart would let this through.
  const ahead = await captured(200)
  const plain = await captured(0)
  expect(await ahead(pod)).toEqual({ status: 200, error: undefined })
  expect(await plain(pod)).toEqual({ status: 200, error: undefined })

  expect(await pod.stop()).toBe(0)
  pod = await spawnPod({ home: homeA })
  expect(await ahead(pod)).toEqual({ status: 401, error: 'replay' })
  expect(await plain(pod)).toEqual({ status: 401, error: 'replay' })

  const beforeCrash = await captured(-100)
  expect((await beforeCrash(pod)).status).toBe(200)
  await pod.kill9()
  pod = await spawnPod({ home: homeA })
  expect(await beforeCrash(pod)).toEqual({ status: 401, error: 'replay' })
  expect(await ahead(pod)).toEqual({ status: 401, error: 'replay' })
})

test('right after a restart, honest requests from clocks up to 300 s ahead or behind are served', async () => {
  expect(await pod.stop()).toBe(0)
  pod = await spawnPod({ home: homeA })
  for (const skewS of [-290, -60, 0, 60, 290]) {
    const fresh = await captured(skewS)
    expect({ skewS, ...(await fresh(pod)) }).toEqual({ skewS, status: 200, error: undefined })
  }
})
