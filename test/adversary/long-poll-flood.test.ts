/**
 * One paired peer floods the pod with long-polls (contract Part 1b "Long-poll: wait", Part 1c
 * "Bounds on what one peer or one stranger can hold"): FLOOD signed requests with `wait: 50`,
 * each with a scope of its own (16 distinct globs that never match, built to make a scope
 * matcher learn a state per label). A pod holds at most 2 per peer: every other one is answered
 * at once, an empty page with the cursor it asked from, long before any wait could run out.
 * Meanwhile local writes succeed, the two held requests are woken by the writes they may receive,
 * and the pod's memory stays bounded. (Written from the contract alone: nothing from src/.)
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { PodProcess } from '../helpers/pod-process'
import { memoryOf, syncCall, type KeyPair, type PodTarget, type SyncAnswer } from './_contract'
import { pairedCaller, spawn, stopPods, until } from './_fixture'

/** Held requests per peer the contract allows. */
const HELD_PER_PEER = 2
/** Under the 256 requests one client process runs at once; the reported attack used 1,500. */
const FLOOD = 240
const WAIT_S = 50
/** The flood must be answered well before any request's own wait could end it. */
const ANSWERED_WITHIN_MS = 30_000
const WRITES = 150
/** Generous: the reported attack took RSS from 315 MB to 3 GB. */
const RSS_GROWTH_MAX_MB = 250

let pod: PodProcess
let self: KeyPair
let target: PodTarget
let head: string
let rssBefore: number
const answers: (SyncAnswer | undefined)[] = Array.from({ length: FLOOD }, () => undefined)
let pending: Promise<SyncAnswer>[] = []
/** Which requests are still held (the last two to arrive; requests race on their connections). */
const stillHeld = () => answers.flatMap((a, i) => (a === undefined ? [i] : []))
const pad = (i: number) => String(i).padStart(4, '0')

/** 16 distinct globs, none matching any label here (each needs a `#`); a digit's position is remembered. */
function hostileScope(i: number): string[] {
  const globs = Array.from({ length: 15 }, (_, g) => `*${(i + g) % 10}${'?'.repeat(3 + (g % 5))}${pad(i)}-${g}*#`)
  // The one glob a write can match: `public:wake-<i>`, so a held request can still be woken.
  globs.push(`public:wake-${pad(i)}*`)
  return globs
}

beforeAll(async () => {
  pod = await spawn()
  ;({ self, target } = await pairedCaller(pod))
  const first = await syncCall(self, target, { since: null, scope: ['*'], limit: 1000 })
  expect(first.status).toBe(200)
  head = first.page!.cursor
  rssBefore = memoryOf(pod.pid).rssMb
})
afterAll(async () => {
  await stopPods([pod])
})

describe('a long-poll flood from one paired peer', () => {
  test(`${FLOOD} held requests with distinct 16-glob scopes: all but ${HELD_PER_PEER} are answered at once, empty, at their cursor`, async () => {
    pending = Array.from({ length: FLOOD }, (_, i) => {
      const p = syncCall(self, target, { since: head, scope: hostileScope(i), limit: 1000, wait: WAIT_S })
      void p.then((a) => (answers[i] = a))
      return p
    })
    await until(() => answers.filter(Boolean).length >= FLOOD - HELD_PER_PEER, ANSWERED_WITHIN_MS, 100)
    const answered = answers.filter((a): a is SyncAnswer => a !== undefined)
    expect(answered.length).toBe(FLOOD - HELD_PER_PEER)
    for (const a of answered) {
      expect(a).toMatchObject({ status: 200, signatureOk: true })
      expect(a.page!.memories).toEqual([])
      expect(a.page!.cursor).toBe(head)
    }
    expect(stillHeld()).toHaveLength(HELD_PER_PEER)
  })

  test(`local writes meanwhile succeed; the ${HELD_PER_PEER} held requests wake only for what their scopes match`, async () => {
    const times: number[] = []
    for (let i = 0; i < WRITES; i++) {
      const t = performance.now()
      const res = await pod.api('POST', '/memories', { label: `public:n${String(i * 7919).padStart(8, '0')}`, content: `note ${i}` })
      times.push(performance.now() - t)
      expect(res.status).toBe(201)
    }
    times.sort((a, b) => a - b)
    console.log(`  ${WRITES} local writes under the flood: p50 ${times[WRITES >> 1]!.toFixed(1)} ms, max ${times.at(-1)!.toFixed(1)} ms`)
    // None of those matched a held scope: both are still held.
    const [one, other] = stillHeld()
    expect([one, other].every((i) => i !== undefined)).toBe(true)
    const wake = await pod.api('POST', '/memories', { label: `public:wake-${pad(one!)}`, content: 'for one held request' })
    expect(wake.status).toBe(201)
    const woken = await pending[one!]!
    expect(woken).toMatchObject({ status: 200, signatureOk: true })
    expect(woken.page!.memories.filter((m) => !m.deleted).map((m) => m.label)).toEqual([`public:wake-${pad(one!)}`])
    expect(stillHeld()).toEqual([other!]) // its own label was not written
  })

  test(`the pod's RSS grew by less than ${RSS_GROWTH_MAX_MB} MB`, () => {
    const after = memoryOf(pod.pid)
    console.log(`  pod RSS ${rssBefore.toFixed(0)} MB before the flood, ${after.rssMb.toFixed(0)} MB after (peak ${after.peakMb.toFixed(0)} MB)`)
    expect(after.rssMb - rssBefore).toBeLessThan(RSS_GROWTH_MAX_MB)
  })
})
