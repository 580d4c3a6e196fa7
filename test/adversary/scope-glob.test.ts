/**
 * A paired peer sends one signed /peer/sync whose scope is a glob built to make a
 * backtracking matcher explode (`******************#`, or 16 globs of 128 chars of `*a`). The
 * pod must match in linear time: the answer comes back (empty), and the pod keeps answering
 * everyone else meanwhile. Scopes over the contract's limits (more than 16 globs, a glob over
 * 128 chars) are refused with 400 `bad_input`, from peers and from the operator alike.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { PodProcess } from '../helpers/pod-process'
import { newKeyPair, syncCall, type KeyPair, type PodTarget } from './_contract'
import { addAdversary, pairedCaller, spawn, stopPods } from './_fixture'

/** Long labels with no `#`: the worst case for `*…*#` (every split point is a candidate). */
const ROWS = 120
/** Safety net only: a linear matcher answers in milliseconds; the regex took 27 s with 18 stars. */
const ANSWER_BOUND_MS = 15_000
const HEALTHZ_BOUND_MS = 5_000

let pod: PodProcess
let self: KeyPair
let target: PodTarget

/** 16 globs of exactly 128 chars, the largest scope the contract allows, none of which matches. */
function worstScope(): string[] {
  const globs: string[] = []
  for (let i = 0; i < 16; i++) globs.push(i % 2 ? '*a'.repeat(63) + '*#' : '*a'.repeat(62) + '**?#')
  if (!globs.every((g) => g.length === 128 && g.endsWith('#'))) throw new Error('worst scope must be 16 × 128 chars ending in #')
  return globs
}

beforeAll(async () => {
  pod = await spawn()
  for (let i = 0; i < ROWS; i++) {
    const res = await pod.api('POST', '/memories', { label: `public:${'a'.repeat(200)}${i}`, content: `row ${i}` })
    expect(res.status).toBe(201)
  }
  await pod.api('POST', '/memories', { label: 'public:xab', content: 'matched by public:x*b' })
  await pod.api('POST', '/memories', { label: 'public:xabc', content: 'matched by public:x?b?' })
  ;({ self, target } = await pairedCaller(pod))
})
afterAll(async () => {
  await stopPods([pod])
})

/**
 * Labels of the served (not deleted) entries. Tombstones of out-of-scope memories may come too:
 * the scope is the caller's choice (it could ask for `*`), so they reveal nothing it can't get.
 */
function live(answer: unknown): string[] {
  const page = (answer as { page?: { memories: { label?: string; deleted?: true }[] } }).page
  if (!page) throw new Error(`no page in ${JSON.stringify(answer)}`)
  return page.memories.filter((m) => !m.deleted).map((m) => m.label!)
}

/** Sends a sync with `scope` and, while it runs, checks that the pod still answers /healthz. */
async function syncWhileProbing(scope: string[]) {
  const answer = syncCall(self, target, { since: null, scope, limit: 1000 })
  await Bun.sleep(20)
  const probe = await fetch(`${pod.url}/healthz`, { signal: AbortSignal.timeout(HEALTHZ_BOUND_MS) }).then(
    (r) => r.status,
    (e: Error) => e.name,
  )
  const timeout = new Promise<'still running'>((r) => setTimeout(() => r('still running'), ANSWER_BOUND_MS))
  return { probe, answer: await Promise.race([answer, timeout]) }
}

describe('adversarial globs are matched in linear time', () => {
  test('`******************#` (the reported attack) answers, empty, and the pod stays responsive', async () => {
    const { probe, answer } = await syncWhileProbing(['*'.repeat(18) + '#'])
    expect(probe).toBe(200)
    expect(answer).toMatchObject({ status: 200, signatureOk: true })
    expect(live(answer)).toEqual([])
  })

  test('16 globs of 128 chars, none matching, answer empty without freezing the pod', async () => {
    const { probe, answer } = await syncWhileProbing(worstScope())
    expect(probe).toBe(200)
    expect(answer).toMatchObject({ status: 200, signatureOk: true })
    expect(live(answer)).toEqual([])
  })

  test('matching stays exact: `public:x*b` serves public:xab only, `public:x?b?` public:xabc only', async () => {
    const one = await syncCall(self, target, { since: null, scope: ['public:x*b'], limit: 1000 })
    expect(live(one)).toEqual(['public:xab'])
    const other = await syncCall(self, target, { since: null, scope: ['public:x?b?'], limit: 1000 })
    expect(live(other)).toEqual(['public:xabc'])
  })
})

describe('scope limits', () => {
  test('a peer asking with 17 globs gets 400 bad_input', async () => {
    const answer = await syncCall(self, target, { since: null, scope: Array.from({ length: 17 }, (_, i) => `public:${i}*`), limit: 10 })
    expect(answer).toMatchObject({ status: 400, error: 'bad_input' })
  })

  test('a peer asking with a 129-char glob gets 400 bad_input', async () => {
    const answer = await syncCall(self, target, { since: null, scope: ['public:' + 'x'.repeat(121) + '*'], limit: 10 })
    expect(answer).toMatchObject({ status: 400, error: 'bad_input' })
  })

  test('exactly 16 globs of 128 chars are accepted', async () => {
    const scope = Array.from({ length: 16 }, (_, i) => `public:${String(i).padStart(2, '0')}` + 'z'.repeat(118) + '*')
    expect(scope.every((g) => g.length === 128)).toBe(true)
    const answer = await syncCall(self, target, { since: null, scope, limit: 10 })
    expect(answer.status).toBe(200)
  })

  test('the operator cannot configure a scope over the limits either (add and set)', async () => {
    const tooMany = Array.from({ length: 17 }, (_, i) => `public:${i}*`)
    const add = await pod.api('POST', '/peer/add', {
      handshake_url: `mzm-handshake://${newKeyPair().podId}?key=${newKeyPair().publicKey}`,
      scope: tooMany,
      sync: false,
    })
    expect(add).toMatchObject({ status: 400, body: { error: 'bad_input' } })
    const other = newKeyPair()
    await addAdversary(pod, other, { url: 'http://127.0.0.1:9', sync: false })
    const set = await pod.api('PATCH', `/peer/peers/${other.podId}`, { scope: 'public:' + 'y'.repeat(122) + '*' })
    expect(set).toMatchObject({ status: 400, body: { error: 'bad_input' } })
  })
})
