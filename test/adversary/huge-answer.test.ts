/**
 * A paired peer (or whoever a hijacked URL points us at) answers a pull with a
 * 1.5 GiB chunked body of well-formed entries. The puller must count bytes as they arrive and
 * give up at its 64 MiB cap (`too_large`): bounded memory in the pod process (VmHWM from /proc),
 * the stream cancelled long before its end, nothing stored, the peer shown as `error`.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { cleanup, type PodProcess } from '../helpers/pod-process'
import { entry, memoryOf, type ServedPeer } from './_contract'
import { copiesOf, pairedServer, peerRow, spawn, syncNow } from './_fixture'

const MiB = 1024 * 1024
const ANSWER_BYTES = 1536 * MiB
const CAP_BYTES = 64 * MiB
/** Safety net far above a streaming reader (idle pod ~60 MB + 64 MiB) and far below buffering 1.5 GiB. */
const PEAK_RSS_BOUND_MB = 400

let pod: PodProcess
let peer: ServedPeer
let sent = 0
let cancelled = false

/** An endless-looking page: a valid prefix, then 1 KiB entries until 1.5 GiB or until the reader hangs up. */
function hugeBody(podId: string): ReadableStream<Uint8Array> {
  const enc = new TextEncoder()
  const one = enc.encode(JSON.stringify(entry('public:flood', 'x'.repeat(900))) + ',')
  const batch = new Uint8Array(one.length * 256)
  for (let i = 0; i < 256; i++) batch.set(one, i * one.length)
  let started = false
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (!started) {
          started = true
          const head = enc.encode(`{"pod_id":"${podId}","cursor":"c1","more":false,"memories":[`)
          sent += head.length
          controller.enqueue(head)
          return
        }
        if (sent >= ANSWER_BYTES) {
          controller.enqueue(enc.encode(JSON.stringify(entry('public:last', 'end')) + ']}'))
          controller.close()
          return
        }
        sent += batch.length
        controller.enqueue(batch)
      },
      cancel() {
        cancelled = true
      },
    },
    { highWaterMark: 0 },
  )
}

beforeAll(async () => {
  pod = await spawn()
  peer = await pairedServer(
    pod,
    (req) =>
      new Response(hugeBody(peer.self.podId), {
        headers: { 'content-type': req.sealed ? 'application/vnd.mzm.sealed' : 'application/json', 'mzm-signature': 'A'.repeat(43) },
      }),
  )
})
afterAll(async () => {
  await peer.stop()
  await cleanup([pod])
})

test('a 1.5 GiB chunked answer is cut at the 64 MiB cap: too_large, bounded RSS, nothing stored', async () => {
  const before = memoryOf(pod.pid)
  const res = await syncNow(pod, peer.self.podId)
  expect(res.status).toBe(200)
  expect(res.body.results[0]).toMatchObject({ peer: peer.self.podId, ok: false, error: 'too_large' })

  const after = memoryOf(pod.pid)
  // The reader hung up: the adversary never got to send the whole answer.
  expect(sent).toBeLessThan(ANSWER_BYTES / 4)
  expect(sent).toBeGreaterThan(CAP_BYTES)
  expect(after.peakMb).toBeLessThan(PEAK_RSS_BOUND_MB)
  expect(after.peakMb - before.rssMb).toBeLessThan(PEAK_RSS_BOUND_MB - 60)

  expect(await copiesOf(pod, peer.self.podId)).toEqual([])
  const row = await peerRow(pod, peer.self.podId)
  expect(row?.status).toBe('error')
  expect(row?.last_error ?? '').toContain('too_large')
  expect(pod.logs()).toMatch(/op=sync err=too_large/)
  // The pod still serves.
  expect((await fetch(`${pod.url}/healthz`)).status).toBe(200)
  await Bun.sleep(50)
  expect(cancelled || sent < ANSWER_BYTES).toBe(true)
})
