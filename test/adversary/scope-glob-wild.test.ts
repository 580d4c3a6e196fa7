/**
 * Issue 8 row 1, second form: with the exponential regex gone, a scope can still cost
 * O(label × glob) per row if `?`-segments are tried at every position. A paired peer who has
 * pulled our (public) labels knows them, so it can aim 16 globs of 128 chars at a page of
 * 1,000 long labels: each request must still leave the pod responsive, in about the time of
 * an ordinary `public:*` page (the bound below is a generous multiple, a safety net).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { PodProcess } from '../helpers/pod-process'
import { syncCall, type KeyPair, type PodTarget } from './_contract'
import { pairedCaller, spawn, stopPods } from './_fixture'

const ROWS = 1001
const PROBE_BOUND_MS = 400

let pod: PodProcess
let self: KeyPair
let target: PodTarget

/** 256-char labels, all `a`: every `?a` lines up everywhere. */
const label = (i: number) => `public:${'a'.repeat(243)}${String(i).padStart(6, '0')}`
/** Head and tail pass (so the middle must be searched); the middle `?a…?#` fails only at its last char. */
const WILD = 'public:*' + '?a'.repeat(58) + '?#' + '*?'

beforeAll(async () => {
  pod = await spawn()
  for (let i = 0; i < ROWS; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, ROWS - i) }, (_, k) => pod.api('POST', '/memories', { label: label(i + k), content: `row ${i + k}` })))
  }
  ;({ self, target } = await pairedCaller(pod))
})
afterAll(async () => {
  await stopPods([pod])
})

/** The longest /healthz wait seen while a sync with `scope` is being answered (probes every 20 ms). */
async function healthzWaitDuring(scope: string[]): Promise<{ status: number; waitedMs: number }> {
  let done = false
  const answer = syncCall(self, target, { since: null, scope, limit: 1000 }).finally(() => (done = true))
  let waitedMs = 0
  while (!done) {
    const t = performance.now()
    await fetch(`${pod.url}/healthz`)
    waitedMs = Math.max(waitedMs, performance.now() - t)
    await Bun.sleep(20)
  }
  return { status: (await answer).status, waitedMs }
}

test('16 `?`-heavy globs of 128 chars against 1,000 long labels do not freeze the pod', async () => {
  expect(WILD.length).toBe(128)
  expect(label(0).length).toBe(256)
  const r = await healthzWaitDuring(Array(16).fill(WILD))
  expect(r.status).toBe(200)
  expect(r.waitedMs).toBeLessThan(PROBE_BOUND_MS)
})
