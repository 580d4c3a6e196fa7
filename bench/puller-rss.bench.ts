/**
 * Puller peak RSS against a huge answer: a real pod pulls from a hostile
 * peer (the contract-level served pod of test/adversary) whose answer is a 1 GiB chunked body of
 * well-formed entries. The puller must cut it at its 64 MiB cap (`too_large`). Printed: the
 * pod's peak RSS (VmHWM, reset before the pull) against its idle RSS, bytes the peer got to
 * send, and the time to give up. Target: peak < 150 MB. Baseline in the same run: the same pod
 * pulling an honest one-memory answer.
 *
 *   npx bun bench/puller-rss.bench.ts
 *   ANSWER_MIB=256 npx bun bench/puller-rss.bench.ts   # a smaller answer
 */
import { rmSync } from 'node:fs'
import { spawnPod } from '../test/helpers/pod-process'
import { entry, page, servePeer, handshakeUrl, type ServedPeer } from '../test/adversary/_contract'
import { fmt, peakRssMb, row, rssMb } from './_util'
import { envInt, identityOf, loadNote, resetPeakRss } from './_fed-util'

const MiB = 1024 * 1024
const ANSWER_BYTES = envInt('ANSWER_MIB', 1024) * MiB
const TARGET_MB = 150

let sent = 0

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
          controller.enqueue(enc.encode(`{"pod_id":"${podId}","cursor":"c1","more":false,"memories":[`))
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
    },
    { highWaterMark: 0 },
  )
}

async function main() {
  console.log(`# puller peak RSS against a ${ANSWER_BYTES / MiB} MiB chunked answer (Bun ${Bun.version}; ${loadNote()})`)
  const pod = await spawnPod()
  const peers: ServedPeer[] = []
  try {
    const id = await identityOf(pod)
    const target = { url: pod.url, podId: id.pod_id, key: id.key }
    const honest = servePeer((req) => req.answer(page(honest.self.podId, [entry('public:one', 'honest answer')])))
    const hostile = servePeer(
      (_req) => new Response(hugeBody(hostile.self.podId), { headers: { 'content-type': 'application/json', 'mzm-signature': 'A'.repeat(43) } }),
    )
    for (const p of [honest, hostile]) {
      p.pod = target
      peers.push(p)
      const res = await pod.api('POST', '/peer/add', { handshake_url: handshakeUrl(p.self), direct_url: p.url, sync: false })
      if (res.status !== 201) throw new Error(`peer add → ${res.status}`)
    }
    const pull = async (peer: ServedPeer) => {
      await pod.api('PATCH', `/peer/peers/${peer.self.podId}`, { sync: true })
      resetPeakRss(pod.pid)
      const before = rssMb(pod.pid)
      const t = performance.now()
      const res = await pod.api('POST', '/peer/sync-now', { peer: peer.self.podId })
      return { ms: performance.now() - t, before, peak: peakRssMb(pod.pid), result: res.body.results[0] }
    }
    const base = await pull(honest)
    const huge = await pull(hostile)
    if (huge.result?.error !== 'too_large') throw new Error(`expected too_large, got ${JSON.stringify(huge.result)}`)
    console.log('')
    row('baseline: honest one-memory pull, peak RSS', `${fmt(base.peak)} MB`, `RSS before ${fmt(base.before)} MB; ${fmt(base.ms, 0)} ms`)
    row(
      '1 GiB answer: peak RSS',
      `${fmt(huge.peak)} MB`,
      `target < ${TARGET_MB} MB: ${huge.peak < TARGET_MB ? 'MET' : 'NOT MET'}; +${fmt(huge.peak - base.peak)} MB over the baseline`,
    )
    row('1 GiB answer: result', `${huge.result.error}`, `after ${fmt(huge.ms, 0)} ms; the peer sent ${fmt(sent / MiB, 0)} MiB of ${ANSWER_BYTES / MiB}`)
    console.log(`\n(${loadNote()})`)
  } finally {
    for (const p of peers) await p.stop()
    await pod.stop()
    rmSync(pod.home, { recursive: true, force: true })
  }
}

await main()
