/**
 * What the end of a pull means for its peer (src/sync/judge-pull.ts), outcome by outcome, as a
 * pure function: the next state (due time, live or not, proxy-cut and fallback memory), the log
 * lines with their levels, what is recorded in the store and the result reported.
 */
import type { PodErrorCode } from '../../src/lib/codes'
import { describe, expect, test } from 'bun:test'
import { MINUTE_MS, SECOND_MS } from '../../src/lib/clock'
import { BACKOFF_BASE_MS, BUSY_RETRIES, BUSY_RETRY_MS, PENDING_RETRY_MS, PROXY_REPROBE_MS } from '../../src/sync/constants'
import { type Attempt, type Judgement, judgePull, type JudgePolicy, type Pulled, type PullReport } from '../../src/sync/judge-pull'
import { FRESH_PEER, type PeerState } from '../../src/sync/peer-state'

const PEER = '6356db37-0000-4000-8000-000000000001'
const SHORT = '6356db37'
const NOW = 10_000_000
const INTERVAL = 5 * MINUTE_MS
const POLICY: JudgePolicy = { intervalMs: INTERVAL, liveWaitS: 50, random: 0, budgetMs: 120 * SECOND_MS }

const state = (over: Partial<PeerState> = {}): PeerState => ({ ...FRESH_PEER, ...over })
const totals = (over: Partial<Pulled> = {}): Pulled => ({
  fetched: 0,
  stored: 0,
  deleted: 0,
  dropped: 0,
  held: 0,
  url: 'http://127.0.0.1:1',
  caughtUp: true,
  moved: false,
  ...over,
})
/** A pull that started `heldMs` before NOW. */
const attempt = (heldMs: number, over: Partial<Attempt> = {}): Attempt => ({ live: false, startedAt: NOW - heldMs, wait: 0, peerLive: true, ...over })
const longPoll = (heldMs: number, wait = 50): Attempt => attempt(heldMs, { live: true, wait })

const pulled = (t: Partial<Pulled> = {}, a = attempt(20), failedUrls: string[] = []): PullReport => ({
  kind: 'pulled',
  peer: PEER,
  attempt: a,
  totals: totals(t),
  failedUrls,
  ms: 20,
})
const failed = (code: PodErrorCode, over: Partial<Extract<PullReport, { kind: 'failed' }>> = {}): PullReport => ({
  kind: 'failed',
  peer: PEER,
  attempt: attempt(20),
  code,
  detail: `${code} at POST http://127.0.0.1:1/peer/sync`,
  budget: false,
  expected: true,
  failuresBefore: 0,
  ms: 20,
  ...over,
})

const judge = (report: PullReport, s: PeerState = state(), policy = POLICY) => judgePull(report, s, NOW, policy)
/** The log lines as `level msg-or-err` for compact comparison. */
const lines = (j: Judgement) => j.logs.map((l) => `${l.level} ${l.fields.err ?? l.fields.msg ?? 'fetched=' + l.fields.fetched}`)

describe('a pull that stored', () => {
  test('ok, not live: next pull one interval away, success recorded, quiet pull at debug', () => {
    const j = judge(pulled({ caughtUp: false }))
    expect(j.next.dueAt).toBe(NOW + INTERVAL)
    expect(j.next.liveReady).toBe(false)
    expect(j.record).toEqual({ ok: true, at: new Date(NOW).toISOString() })
    expect(j.result).toEqual({ peer: PEER, ok: true, fetched: 0, stored: 0, deleted: 0, dropped: 0, ms: 20 })
    expect(lines(j)).toEqual(['debug fetched=0'])
    expect(j.logs[0]!.fields.peer).toBe(SHORT)
  })

  test('memories arrived: the pull at debug with its counts; the first summary at info at once', () => {
    const j = judge(pulled({ fetched: 3, stored: 2, deleted: 1, caughtUp: false, moved: true }))
    expect(j.logs[0]).toEqual({ level: 'debug', fields: { peer: SHORT, op: 'sync', fetched: 3, stored: 2, deleted: 1, dropped: undefined, ms: 20 } })
    expect(j.logs[1]).toMatchObject({
      level: 'info',
      fields: { peer: SHORT, op: 'sync_summary', pulls: 1, fetched: 3, stored: 2, deleted: 1, dropped: 0, window_s: undefined },
    })
    expect(j.next.tally).toEqual({ since: NOW, pulls: 0, fetched: 0, stored: 0, deleted: 0, dropped: 0 })
    expect(j.result).toMatchObject({ ok: true, fetched: 3, stored: 2, deleted: 1 })
  })

  test('caught up with a live peer: the next long-poll is due at once', () => {
    const j = judge(pulled({ moved: true }))
    expect(j.next).toMatchObject({ liveReady: true, dueAt: NOW, quickEmpty: 0 })
  })

  test('caught up, but the peer is not live, or our live wait is 0: interval', () => {
    expect(judge(pulled({}, attempt(20, { peerLive: false }))).next).toMatchObject({ liveReady: false, dueAt: NOW + INTERVAL })
    expect(judge(pulled(), state(), { ...POLICY, liveWaitS: 0 }).next).toMatchObject({ liveReady: false, dueAt: NOW + INTERVAL })
  })

  test('a live answer that came back empty without being held backs off, more each time; a held one resets it', () => {
    const quick = judge(pulled({ moved: false }, longPoll(200)))
    expect(quick.next).toMatchObject({ liveReady: true, quickEmpty: 1, dueAt: NOW + BACKOFF_BASE_MS })
    const again = judge(pulled({ moved: false }, longPoll(200)), quick.next)
    expect(again.next).toMatchObject({ quickEmpty: 2, dueAt: NOW + 2 * BACKOFF_BASE_MS })
    expect(judge(pulled({ moved: false }, longPoll(45_000)), again.next).next).toMatchObject({ quickEmpty: 0, dueAt: NOW })
  })

  test('after failures: "peer recovered" at info and the failure forgotten', () => {
    const j = judge(pulled(), state({ lastError: 'http_503' }))
    expect(lines(j)).toEqual(['info peer recovered', 'debug fetched=0'])
    expect(j.next.lastError).toBeNull()
  })

  test('held deletes: warn when the hold starts or grows, debug when the same hold comes again, forgotten when gone', () => {
    const first = judge(pulled({ held: 150 }))
    expect(lines(first)).toEqual(['warn deletes_held'])
    expect(first.logs[0]!.fields.msg).toContain(`mazemaker peer accept-deletes ${PEER}`)
    expect(first.result).toMatchObject({ ok: true, held: 150 })
    expect(first.next.held).toBe(150)
    expect(lines(judge(pulled({ held: 150 }), first.next))).toEqual(['debug deletes_held'])
    expect(lines(judge(pulled({ held: 200 }), first.next))).toEqual(['warn deletes_held'])
    expect(judge(pulled(), first.next).next.held).toBe(0)
  })

  test('dropped copies are an info line even when nothing was stored', () => {
    expect(judge(pulled({ fetched: 0, dropped: 4 })).logs[0]).toMatchObject({ level: 'info', fields: { op: 'sync', dropped: 4 } })
  })

  test('URL fallback: warned once per pair of URLs, info when the first URL answers again', () => {
    const a = judge(pulled({ url: 'http://b' }, attempt(20), ['http://a']))
    expect(lines(a)).toEqual(['warn url_fallback', 'debug fetched=0'])
    expect(a.next.fellBack).toBe('http://a http://b')
    expect(lines(judge(pulled({ url: 'http://b' }, attempt(20), ['http://a']), a.next))).toEqual(['debug url_fallback', 'debug fetched=0'])
    const back = judge(pulled({ url: 'http://a' }), a.next)
    expect(lines(back)).toEqual(['info the first URL tried answers again', 'debug fetched=0'])
    expect(back.next.fellBack).toBeNull()
  })
})

describe('the log at work: routine pulls at debug, one summary per peer at most every 5 minutes', () => {
  /** Runs `pulls` (each `at` ms after NOW) through the judge; returns the info lines and the last state. */
  function run(pulls: { at: number; t: Partial<Pulled> }[], from = state()) {
    let s = from
    const info: Record<string, unknown>[] = []
    for (const p of pulls) {
      const j = judgePull(pulled(p.t, longPoll(20)), s, NOW + p.at, POLICY)
      for (const l of j.logs) if (l.level !== 'debug') info.push(l.fields)
      expect(j.logs[0]!.level).toBe('debug')
      s = j.next
    }
    return { info, state: s }
  }

  test('20 live pulls a second for 5 minutes: one summary at the first, one after 5 minutes with everything since', () => {
    const pulls = Array.from({ length: 20 * 300 + 1 }, (_, i) => ({ at: i * 50, t: { fetched: 1, stored: 1, moved: true } }))
    const { info, state: last } = run(pulls)
    expect(info).toHaveLength(2)
    expect(info[0]).toMatchObject({ op: 'sync_summary', pulls: 1, fetched: 1, stored: 1 })
    // The next one once 5 minutes passed since the first: every pull in between counted.
    expect(info[1]).toMatchObject({ op: 'sync_summary', pulls: 6000, fetched: 6000, stored: 6000, deleted: 0, dropped: 0, window_s: 300 })
    expect(last.tally).toMatchObject({ since: NOW + 300_000, pulls: 0 })
  })

  test('a summary is written at the first pull past 5 minutes, not before; deletes and drops count as activity', () => {
    const first = run([{ at: 0, t: { fetched: 1, stored: 1 } }])
    const quiet = run(
      [
        { at: 60_000, t: { deleted: 2 } },
        { at: 299_999, t: {} },
      ],
      first.state,
    )
    expect(quiet.info).toEqual([])
    expect(quiet.state.tally).toMatchObject({ since: NOW, pulls: 2, deleted: 2 })
    const due = run([{ at: 300_000, t: {} }], quiet.state)
    expect(due.info).toEqual([expect.objectContaining({ op: 'sync_summary', pulls: 3, fetched: 0, deleted: 2, window_s: 300 })])
  })

  test('a quiet peer (nothing fetched, deleted or dropped) writes no summary, however long', () => {
    const pulls = Array.from({ length: 100 }, (_, i) => ({ at: i * 50_000, t: {} }))
    const { info, state: last } = run(pulls)
    expect(info).toEqual([])
    expect(last.tally.pulls).toBe(100)
  })

  test('changes of state stay at info or warn while pulls are at debug', () => {
    const failing = judge(failed('http_503'))
    expect(lines(failing)).toEqual(['warn http_503'])
    expect(lines(judge(pulled(), failing.next))[0]).toBe('info peer recovered')
  })
})

describe('a pull that failed', () => {
  test('first failure: warn, recorded, backoff 5 s; the same again at debug with a longer backoff; a new kind warns', () => {
    const one = judge(failed('http_503'))
    expect(lines(one)).toEqual(['warn http_503'])
    expect(one.record).toEqual({ ok: false, error: 'http_503: http_503 at POST http://127.0.0.1:1/peer/sync' })
    expect(one.next).toMatchObject({ liveReady: false, lastError: 'http_503', dueAt: NOW + BACKOFF_BASE_MS })
    expect(one.result).toMatchObject({ ok: false, error: 'http_503' })
    const two = judge(failed('http_503', { failuresBefore: 1 }), one.next)
    expect(lines(two)).toEqual(['debug http_503'])
    expect(two.next.dueAt).toBe(NOW + 2 * BACKOFF_BASE_MS)
    expect(two.logs[0]!.fields.failures).toBe(2)
    expect(lines(judge(failed('unauthorized', { failuresBefore: 2 }), two.next))).toEqual(['warn unauthorized'])
  })

  test('a live pull answered 429 (a hub behind a tunnel, its per-address door busy): asked again within a second, not after the 5 s backoff', () => {
    let s = state({ liveReady: true })
    const dues: number[] = []
    for (let i = 0; i <= BUSY_RETRIES; i++) {
      const j = judge(failed('http_429', { attempt: longPoll(30), failuresBefore: i }), s)
      dues.push(j.next.dueAt - NOW)
      s = j.next
    }
    expect(dues).toEqual([...Array(BUSY_RETRIES).fill(BUSY_RETRY_MS / 2), 2 ** BUSY_RETRIES * BACKOFF_BASE_MS])
    expect(s).toMatchObject({ liveReady: false, lastError: 'http_429', failures: BUSY_RETRIES + 1 })
  })

  test('a store that cannot count failures (a full disk): the backoff still grows, and a success resets it', () => {
    const one = judge(failed('internal', { expected: false }))
    const two = judge(failed('internal', { expected: false, failuresBefore: 0 }), one.next)
    const three = judge(failed('internal', { expected: false, failuresBefore: 0 }), two.next)
    expect([one, two, three].map((j) => j.next.dueAt - NOW)).toEqual([BACKOFF_BASE_MS, 2 * BACKOFF_BASE_MS, 4 * BACKOFF_BASE_MS])
    expect(judge(pulled(), three.next).next.failures).toBe(0)
  })

  test('a full disk: warned once, no error line, no pull record, backoff; "room again" when a pull stores', () => {
    const detail = 'the disk is full: /srv has 0 B free; free some space there (nothing stored is lost, writes resume by themselves)'
    const one = judge(failed('disk_full', { expected: false, detail }))
    expect(lines(one)).toEqual(['warn disk_full'])
    expect(one.record).toBeNull()
    expect(one.result).toMatchObject({ ok: false, error: 'disk_full', detail })
    expect(one.next).toMatchObject({ lastError: 'disk_full', failures: 1, dueAt: NOW + BACKOFF_BASE_MS })
    const two = judge(failed('disk_full', { expected: false, detail }), one.next)
    expect(lines(two)).toEqual(['debug disk_full'])
    expect(two.next.dueAt).toBe(NOW + 2 * BACKOFF_BASE_MS)
    expect(lines(judge(pulled(), two.next))[0]).toBe('info there is room on the disk again: pulls resumed (nothing was lost)')
  })

  test('a fault of ours (not a PeerError) also gets an error line; quota_exceeded does not', () => {
    expect(lines(judge(failed('internal', { expected: false })))).toEqual(['error internal', 'warn internal'])
    expect(lines(judge(failed('quota_exceeded', { expected: false })))).toEqual(['warn quota_exceeded'])
  })

  test('budget: timeout with a message that says what was kept', () => {
    const j = judge(failed('timeout', { budget: true, expected: false }))
    expect(lines(j)).toEqual(['warn timeout'])
    expect(j.result.detail).toBe('pull ran over its budget of 120 s; what arrived before is kept')
  })

  test('a live peer failing leaves live: backoff, not an immediate long-poll', () => {
    const j = judge(failed('unauthorized', { attempt: longPoll(20) }), state({ liveReady: true }))
    expect(j.next).toMatchObject({ liveReady: false, dueAt: NOW + BACKOFF_BASE_MS })
  })
})

describe('a held long-poll cut by a proxy', () => {
  const cut = (heldMs: number, over: Partial<Extract<PullReport, { kind: 'failed' }>> = {}) => failed('http_504', { attempt: longPoll(heldMs), ...over })

  test('first cut: asked again at once, nothing recorded, debug', () => {
    const j = judge(cut(30_000), state({ liveReady: true }))
    expect(j.record).toBeNull()
    expect(lines(j)).toEqual(['debug http_504'])
    expect(j.next).toMatchObject({ liveReady: true, dueAt: NOW, lastCutMs: 30_000, lowered: null })
    expect(j.result).toMatchObject({ ok: false, error: 'proxy_cut' })
  })

  test('second cut after about the same hold: the wait is lowered under it, warned once', () => {
    const j = judge(cut(30_400), state({ liveReady: true, lastCutMs: 30_000 }))
    expect(j.record).toBeNull()
    expect(lines(j)).toEqual(['warn proxy_cut'])
    expect(j.logs[0]!.fields.msg).toContain('http://127.0.0.1:1/peer/sync')
    expect(j.next).toMatchObject({ liveReady: true, dueAt: NOW, lastCutMs: null, lowered: { waitS: 24, cutMs: 30_000, probeAt: NOW + PROXY_REPROBE_MS } })
  })

  test('a proxy that cuts too soon to hold at all: long-polls off, the interval, the message as detail', () => {
    const j = judge(cut(2_000), state({ liveReady: true, lastCutMs: 2_000 }))
    expect(j.next).toMatchObject({ liveReady: false, dueAt: NOW + INTERVAL, lowered: { waitS: 0 } })
    expect(j.result.detail).toContain('long-polls to this peer are off')
  })

  test('a second cut that does not agree with the first is an ordinary failure (and the new one is remembered)', () => {
    const j = judge(cut(10_000), state({ liveReady: true, lastCutMs: 30_000 }))
    expect(lines(j)).toEqual(['warn http_504'])
    expect(j.record).toMatchObject({ ok: false })
    expect(j.next).toMatchObject({ liveReady: false, lastCutMs: 10_000, dueAt: NOW + BACKOFF_BASE_MS })
  })

  test('a long-poll held past an unconfirmed cut forgets it', () => {
    expect(judge(pulled({ moved: true }, longPoll(40_000)), state({ lastCutMs: 30_000 })).next.lastCutMs).toBeNull()
    expect(judge(pulled({ moved: true }, longPoll(5_000)), state({ lastCutMs: 30_000 })).next.lastCutMs).toBe(30_000)
  })

  const lowered = { waitS: 24, cutMs: 30_000, probeAt: NOW - 60_000 }

  test('probe cut again: the lowered wait stays, quietly, and the next probe is an hour later', () => {
    const j = judge(cut(30_000), state({ liveReady: true, lowered }))
    expect(lines(j)).toEqual(['debug http_504'])
    expect(j.record).toBeNull()
    expect(j.next).toMatchObject({ liveReady: true, dueAt: NOW, lowered: { waitS: 24, cutMs: 30_000, probeAt: NOW + PROXY_REPROBE_MS } })
  })

  test('probe held past the old limit: the full wait is back (info)', () => {
    const j = judge(pulled({}, longPoll(45_000)), state({ liveReady: true, lowered }))
    expect(j.next.lowered).toBeNull()
    expect(lines(j)[0]).toStartWith('info the proxy or tunnel in front of this peer answered a full 45 s hold')
  })

  test('probe answered early by a change says nothing: the lowered wait stays', () => {
    expect(judge(pulled({ moved: true }, longPoll(3_000)), state({ liveReady: true, lowered })).next.lowered).toEqual(lowered)
  })

  test('not a probe (the lowered wait is not due for one) and not live: no proxy handling', () => {
    const j = judge(failed('http_504', { attempt: attempt(30_000) }), state({ lowered: { ...lowered, probeAt: NOW + 1 } }))
    expect(j.result.error).toBe('http_504')
  })
})

describe('a pull that did not happen or that we stopped', () => {
  test('our shutdown: nothing scheduled, nothing logged or recorded', () => {
    const before = state({ liveReady: true, dueAt: 7 })
    const j = judge({ kind: 'stopped', peer: PEER, why: 'stopped', ms: 3, detail: 'aborted' }, before)
    expect(j).toEqual({ next: { ...before, liveReady: false }, logs: [], record: null, result: expect.objectContaining({ ok: false, error: 'stopped' }) })
  })

  for (const why of ['removed', 'paused', 'revoked'] as const) {
    test(`relationship ended (${why}): info line, next look an interval away, nothing recorded`, () => {
      const j = judge({ kind: 'stopped', peer: PEER, why, ms: 3, detail: 'x' }, state({ liveReady: true }))
      expect(lines(j)).toEqual([`info ${why}`])
      expect(j.logs[0]!.fields.msg).toBe('pull stopped: the relationship changed; nothing more stored')
      expect(j.record).toBeNull()
      expect(j.next).toMatchObject({ liveReady: false, dueAt: NOW + INTERVAL })
      expect(j.result.error).toBe(why)
    })
  }

  for (const [why, what] of [
    ['scope_changed', 'its scope'],
    ['url_changed', 'its URLs'],
    ['key_changed', 'its key'],
    ['live_changed', 'its live setting'],
  ] as const) {
    test(`relationship changed (${why}): pulled again at once by a normal pull (live again once caught up), nothing recorded`, () => {
      const j = judge({ kind: 'stopped', peer: PEER, why: why!, ms: 3, detail: 'x' }, state({ liveReady: true, dueAt: NOW + INTERVAL }))
      expect(j.logs).toEqual([{ level: 'info', fields: { peer: SHORT, op: 'sync', err: why, ms: 3, msg: `pull stopped: ${what} changed; pulling again now` } }])
      expect(j.record).toBeNull()
      expect(j.next).toMatchObject({ liveReady: false, dueAt: NOW })
      expect(j.result.error).toBe(why)
    })
  }

  test('scope narrowed (the cursor is kept): a live peer is held again at once, with no catch-up pull; one that was not live stays so', () => {
    const stop = { kind: 'stopped', peer: PEER, why: 'scope_changed', ms: 3, detail: 'x', keepsCursor: true } as const
    expect(judge(stop, state({ liveReady: true, dueAt: NOW + INTERVAL })).next).toMatchObject({ liveReady: true, dueAt: NOW })
    expect(judge(stop, state({ liveReady: false, dueAt: NOW + INTERVAL })).next).toMatchObject({ liveReady: false, dueAt: NOW })
    // A widened scope is pulled from the start: caught up by a normal pull first.
    expect(judge({ ...stop, keepsCursor: false }, state({ liveReady: true })).next.liveReady).toBe(false)
  })

  test('superseded by a forced pull: nothing scheduled (the forced pull follows)', () => {
    const j = judge({ kind: 'superseded', peer: PEER, ms: 3, detail: 'x' }, state({ liveReady: true, dueAt: 7 }))
    expect(j.next).toMatchObject({ liveReady: false, dueAt: 7 })
    expect(j.logs).toEqual([])
    expect(j.result.error).toBe('superseded')
  })

  test('not pulled: paused and revoked look again an interval later, no URL yet within a minute', () => {
    const paused = judge({ kind: 'not_pulled', peer: PEER, error: 'paused', detail: 'sync = false' })
    expect(paused.next.dueAt).toBe(NOW + INTERVAL)
    expect(paused.result).toMatchObject({ ok: false, ms: 0, error: 'paused' })
    expect(judge({ kind: 'not_pulled', peer: PEER, error: 'handshake_pending', detail: 'no URL' }).next.dueAt).toBe(NOW + PENDING_RETRY_MS)
    expect(judge({ kind: 'not_pulled', peer: PEER, error: 'revoked', detail: 'no key' }).record).toBeNull()
  })
})
