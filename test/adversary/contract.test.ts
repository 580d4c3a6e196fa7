/**
 * The adversary's own contract code (test/adversary/_contract.ts, written from DESIGN.md alone)
 * interoperates with a real pod process both ways. Every hostile-peer test builds on this: if
 * these pass, a refusal seen in the attack tests is the pod's decision, not our wire mistake.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { join, relative, sep } from 'node:path'
import { reachableFrom, sourceFiles } from '../helpers/import-graph'
import { cleanup, type PodProcess } from '../helpers/pod-process'
import { entry, newKeyPair, page, syncCall, type ServedPeer } from './_contract'
import { copiesOf, pairedCaller, pairedServer, peerRow, spawn, syncNow } from './_fixture'

let pod: PodProcess
const served: ServedPeer[] = []

beforeAll(async () => {
  pod = await spawn()
  const res = await pod.api('POST', '/memories', { label: 'public:hello', content: 'shared with peers' })
  expect(res.status).toBe(201)
  await pod.api('POST', '/memories', { label: 'diary:secret', content: 'never leaves the pod' })
})
afterAll(async () => {
  for (const s of served) await s.stop()
  await cleanup([pod])
})

describe('contract-level caller', () => {
  test('a paired caller is served a signed page holding only shareable memories', async () => {
    const { self, target } = await pairedCaller(pod)
    const answer = await syncCall(self, target, { since: null, scope: ['*'], limit: 100 })
    expect(answer.status).toBe(200)
    expect(answer.signatureOk).toBe(true)
    expect(answer.page!.pod_id).toBe(target.podId)
    expect(answer.page!.memories.map((m) => m.label)).toEqual(['public:hello'])
  })

  test('an unpaired caller gets 401 unauthorized', async () => {
    const { target } = await pairedCaller(pod)
    const stranger = newKeyPair()
    const answer = await syncCall(stranger, target, { since: null, scope: ['public:*'], limit: 10 })
    expect(answer).toMatchObject({ status: 401, error: 'unauthorized' })
  })
})

describe('contract-level served pod', () => {
  test('the pod pulls a signed page from us and stores it under peer:<id>:', async () => {
    const peer = await pairedServer(pod, (req) => req.answer(page(peer.self.podId, [entry('public:from-adversary', 'hi')])))
    served.push(peer)
    const res = await syncNow(pod, peer.self.podId)
    expect(res.status).toBe(200)
    expect(res.body.results[0]).toMatchObject({ ok: true, stored: 1 })
    expect((await copiesOf(pod, peer.self.podId)).map((m) => m.label)).toEqual([`peer:${peer.self.podId}:public:from-adversary`])
  })

  test('an answer whose signature does not verify stores nothing (bad_signature)', async () => {
    const peer = await pairedServer(pod, (req) => {
      const good = req.answer(page(peer.self.podId, [entry('public:forged', 'x')]))
      return new Response(good.body, { headers: { 'content-type': good.headers.get('content-type')!, 'mzm-signature': 'A'.repeat(43) } })
    })
    served.push(peer)
    const res = await syncNow(pod, peer.self.podId)
    expect(res.body.results[0]).toMatchObject({ ok: false, error: 'bad_signature' })
    expect(await copiesOf(pod, peer.self.podId)).toEqual([])
    expect((await peerRow(pod, peer.self.podId))?.status).toBe('error')
  })
})

describe('independence', () => {
  test('no adversary file reaches src/, not even through a helper (it is written from the contract alone)', () => {
    const dir = import.meta.dir
    const files = sourceFiles(dir)
    expect(files.length).toBeGreaterThan(2)
    const src = join(dir, '..', '..', 'src') + sep
    for (const file of files) {
      const reached = [...reachableFrom([file])].filter((f) => f.startsWith(src))
      expect({ file: relative(dir, file), reaches: reached.map((f) => relative(dir, f)) }).toEqual({ file: relative(dir, file), reaches: [] })
    }
  })

  test('the guard follows imports through helpers: a helper that imports src/ is caught', () => {
    // test/helpers/in-process-pod.ts imports src/pod: anything importing it reaches src/.
    const helper = join(import.meta.dir, '..', 'helpers', 'in-process-pod.ts')
    const src = join(import.meta.dir, '..', '..', 'src') + sep
    expect([...reachableFrom([helper])].some((f) => f.startsWith(src))).toBe(true)
  })
})
