/**
 * A pull of several pages checks every page the same way, the first and the ones after it:
 * signature, then seal, then schema, and a page that fails stores nothing while the pages before
 * it stay stored. Under Deno a pull's later pages come through its fetch thread once the thread is
 * ready, which checks the signature and the seal there (src/sync/fetch-worker.ts;
 * test/sync/sync-exchange-thread.test.ts runs those checks on the thread itself); the deno pass
 * runs this file with Deno pods, the bun pass with the binary. The served peer is the contract's
 * own code.
 */
import { afterAll, expect, test } from 'bun:test'
import { entry, page, type PullRequestSeen, type ServedPeer } from '../adversary/_contract'
import { copiesOf, pairedServer, spawn, syncNow } from '../adversary/_fixture'
import { cleanup, type PodProcess } from '../helpers/pod-process'

const pods: PodProcess[] = []
const served: ServedPeer[] = []
afterAll(async () => {
  for (const s of served) await s.stop()
  await cleanup(pods)
})

/** Page 1 (cursor p1, more follow) is sound; page 2 is what `second` answers. */
async function pullWithSecondPage(second: (req: PullRequestSeen, podId: string) => Response | Promise<Response>) {
  const pod = await spawn()
  pods.push(pod)
  const peer: ServedPeer = await pairedServer(pod, (req) =>
    req.json.since === null
      ? req.answer(page(peer.self.podId, [entry('public:first-a', 'one'), entry('public:first-b', 'two')], { cursor: 'p1', more: true }))
      : second(req, peer.self.podId),
  )
  served.push(peer)
  const res = await syncNow(pod, peer.self.podId)
  const labels = (await copiesOf(pod, peer.self.podId)).map((m) => m.label.slice(`peer:${peer.self.podId}:`.length)).sort()
  return { result: res.body.results[0], labels }
}

test('every page of a pull is stored when each verifies, opens and validates', async () => {
  const { result, labels } = await pullWithSecondPage((req, podId) =>
    req.json.since === 'p1'
      ? req.answer(page(podId, [entry('public:second', 'three')], { cursor: 'p2', more: true }))
      : req.answer(page(podId, [entry('public:third', 'four')], { cursor: 'p3', more: false })),
  )
  expect(result).toMatchObject({ ok: true, stored: 4 })
  expect(labels).toEqual(['public:first-a', 'public:first-b', 'public:second', 'public:third'])
}, 30_000)

test('a later page whose signature does not verify: bad_signature, only the pages before it stored', async () => {
  const { result, labels } = await pullWithSecondPage(async (req, podId) => {
    const good = req.answer(page(podId, [entry('public:forged', 'x')], { cursor: 'p2' }))
    return new Response(good.body, { headers: { 'content-type': good.headers.get('content-type')!, 'mzm-signature': 'A'.repeat(43) } })
  })
  expect(result).toMatchObject({ ok: false, error: 'bad_signature' })
  expect(labels).toEqual(['public:first-a', 'public:first-b'])
}, 30_000)

test('a later page signed over bytes that do not open with the seal: bad_response, only the pages before it stored', async () => {
  const { result, labels } = await pullWithSecondPage(async (req, podId) => {
    const sealed = new Uint8Array(await req.answer(page(podId, [entry('public:tampered', 'x')], { cursor: 'p2' })).arrayBuffer())
    sealed[sealed.length - 20]! ^= 0x01
    return req.answerBytes(sealed) // a valid signature over the tampered bytes
  })
  expect(result).toMatchObject({ ok: false, error: 'bad_response' })
  expect(result.detail).toContain('sealed response does not open')
  expect(labels).toEqual(['public:first-a', 'public:first-b'])
}, 30_000)

test('a later page that opens but breaks the schema: bad_response, only the pages before it stored', async () => {
  const { result, labels } = await pullWithSecondPage((req, podId) =>
    req.answer(
      page(podId, [{ id: crypto.randomUUID(), content: 'no label', created_at: new Date().toISOString(), updated_at: new Date().toISOString() }], {
        cursor: 'p2',
      }),
    ),
  )
  expect(result).toMatchObject({ ok: false, error: 'bad_response' })
  expect(labels).toEqual(['public:first-a', 'public:first-b'])
}, 30_000)
