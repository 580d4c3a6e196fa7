/**
 * A page big enough that a Deno pod seals it with Web Crypto off the main thread (seal.ts seals
 * bodies over 32 KiB that way) opens, byte for byte, with the contract's own AES-256-GCM and
 * signature code (_contract.ts, node:crypto, written from DESIGN.md alone): the same for a Bun
 * pod, whose seal stays node:crypto's. A second request for the same page gets a fresh iv.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { syncCall } from './_contract'
import { pairedCaller, spawn } from './_fixture'
import { cleanup, type PodProcess } from '../helpers/pod-process'

const MEMORIES = 200
/** 200 memories of about 400 bytes: a page of about 90 KB. */
const content = (i: number) => `memory ${i}: ${'a quokka smiles at the camera and the axolotl waves back. '.repeat(7)}`

const pods: PodProcess[] = []
afterAll(() => cleanup(pods))

describe.each(['deno', 'bun'] as const)('a %s pod', (runtime) => {
  test('serves a 90 KB page that the contract opens and verifies', async () => {
    const pod = await spawn({ runtime })
    pods.push(pod)
    for (let i = 0; i < MEMORIES; i++) {
      expect((await pod.api('POST', '/memories', { label: `public:big-${i}`, content: content(i) })).status).toBe(201)
    }
    const { self, target } = await pairedCaller(pod)
    const first = await syncCall(self, target, { since: null, scope: ['public:*'], limit: 1000 })
    expect(first).toMatchObject({ status: 200, signatureOk: true })
    expect(first.page!.memories.map((m) => [m.label, m.content])).toEqual(Array.from({ length: MEMORIES }, (_, i) => [`public:big-${i}`, content(i)]))
    expect(first.sealedBytes!).toBeGreaterThan(64 * 1024)
    const again = await syncCall(self, target, { since: null, scope: ['public:*'], limit: 1000 })
    expect(again).toMatchObject({ status: 200, signatureOk: true })
    expect(again.page!.memories).toEqual(first.page!.memories)
    // A fresh 12-byte iv per answer: never the same key stream twice.
    expect(again.iv).not.toEqual(first.iv)
  }, 60_000)
})
