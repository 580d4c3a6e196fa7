/**
 * What the end of one pull means for its peer, as a pure function of the outcome, the peer's
 * state before and the time: the next state (when the peer is due, whether its next pull is a
 * long-poll, proxy-cut and fallback memory), the log lines to write, what to record in the store
 * and the result to report. sync-loop.ts runs the pull and applies the judgement; every rule
 * here is table-tested without a clock, socket or store.
 */
import type { SyncResult } from '../api/types'
import { shortId } from '../identity'
import { type ChangeReason, isChangeReason, type PodErrorCode, type StopReason } from '../lib/codes'
import type { Fields, Level } from '../lib/log'
import { LIVE_MIN_HOLD_MS, PROXY_REPROBE_MS, PULL_SUMMARY_MS } from './constants'
import { EMPTY_TALLY, type PeerState, type PullTally, probing, waitFor } from './peer-state'
import { cutsAgree, isProxyCut, lowerWait, probeHeld, proxyCutMessage, proxyFixedMessage } from './proxy-cut'
import { nextDue, type PullOutcome } from './scheduler'

/** What changed, by stop reason, for the log line. */
const CHANGED: Record<ChangeReason, string> = { key_changed: 'its key', scope_changed: 'its scope', url_changed: 'its URLs', live_changed: 'its live setting' }

/** How a long-poll or pull was asked for (fixed when it started). */
export interface Attempt {
  /** A long-poll (the peer may hold it). */
  live: boolean
  /** Clock time it started. */
  startedAt: number
  /** The `wait` (s) it asked for (0: not a long-poll). */
  wait: number
  /** The peer's `live` setting when it started. */
  peerLive: boolean
}

/** What the pull totals say, as far as judging cares (pull-peer.ts PullTotals). */
export interface Pulled {
  fetched: number
  stored: number
  deleted: number
  dropped: number
  held: number
  url: string
  caughtUp: boolean
  moved: boolean
}

export type PullReport =
  /** Not pulled: no key file, paused, or no URL yet (`handshake_pending`). */
  | { kind: 'not_pulled'; peer: string; error: 'revoked' | 'paused' | 'handshake_pending'; detail: string }
  /**
   * Stopped on our side: the pod shutting down (`stopped`) or the relationship changing (`why`).
   * `keepsCursor`: the next pull goes on from the same cursor (a narrowed scope).
   */
  | { kind: 'stopped'; peer: string; why: StopReason; ms: number; detail: string; keepsCursor?: boolean }
  /** A held long-poll given up for a forced pull, which follows at once. */
  | { kind: 'superseded'; peer: string; ms: number; detail: string }
  /** Pulled and stored; `failedUrls` did not answer before `totals.url` did. */
  | { kind: 'pulled'; peer: string; attempt: Attempt; totals: Pulled; failedUrls: readonly string[]; ms: number }
  /**
   * Failed with `code`. `budget`: our time budget ran out. `expected`: a failure of the peer or
   * the network (a PeerError), not a fault of ours worth an error line. `failuresBefore`: the
   * store's failures in a row before this one.
   */
  | {
      kind: 'failed'
      peer: string
      attempt: Attempt
      code: PodErrorCode
      detail: string
      budget: boolean
      expected: boolean
      failuresBefore: number
      ms: number
    }

/** The loop's settings at the time of judging. */
export interface JudgePolicy {
  intervalMs: number
  /** Our long-poll wait (s); 0: no live pulls. */
  liveWaitS: number
  /** A number in [0, 1) for the schedule's jitter. */
  random: number
  /** One pull's time budget (for the message when it runs out). */
  budgetMs: number
}

export interface LogLine {
  level: Level
  fields: Fields
}

export interface Judgement {
  next: PeerState
  logs: LogLine[]
  /** What to write to the store's pull record (null: nothing, it was not the peer's doing). */
  record: { ok: true; at: string } | { ok: false; error: string } | null
  result: SyncResult
}

export function judgePull(report: PullReport, state: PeerState, now: number, policy: JudgePolicy): Judgement {
  const due = (outcome: PullOutcome) => nextDue({ outcome, now, intervalMs: policy.intervalMs, random: policy.random })
  switch (report.kind) {
    case 'not_pulled':
      return {
        next: { ...state, liveReady: false, dueAt: due(report.error === 'handshake_pending' ? { kind: 'pending' } : { kind: 'skipped' }) },
        logs: [],
        record: null,
        result: failure(report.peer, 0, report.error, report.detail),
      }
    case 'stopped': {
      const result = failure(report.peer, report.ms, report.why, report.detail)
      // Our own shutdown: nothing to say and nothing to schedule.
      if (report.why === 'stopped') return { next: { ...state, liveReady: false }, logs: [], record: null, result }
      // Changed but still ours (a new scope, URL, key or live setting): pulled again at once, under
      // the new settings (a live peer is caught up by a normal pull, then held live again; with
      // its cursor kept, a narrowed scope has nothing to catch up: held live again at once).
      const changed = isChangeReason(report.why) ? CHANGED[report.why] : null
      const again = changed !== null
      const msg = again ? `pull stopped: ${changed} changed; pulling again now` : 'pull stopped: the relationship changed; nothing more stored'
      const liveReady = again && report.keepsCursor === true && state.liveReady
      return {
        next: { ...state, liveReady, dueAt: again ? now : due({ kind: 'skipped' }) },
        logs: [{ level: 'info', fields: { peer: shortId(report.peer), op: 'sync', err: report.why, ms: report.ms, msg } }],
        record: null,
        result,
      }
    }
    case 'superseded':
      return { next: { ...state, liveReady: false }, logs: [], record: null, result: failure(report.peer, report.ms, 'superseded', report.detail) }
    case 'pulled':
      return judgePulled(report, state, now, due, policy)
    case 'failed':
      return judgeFailed(report, state, now, due, policy)
  }
}

type Due = (outcome: PullOutcome) => number

function judgePulled(report: Extract<PullReport, { kind: 'pulled' }>, state: PeerState, now: number, due: Due, policy: JudgePolicy): Judgement {
  const { totals, attempt } = report
  const short = shortId(report.peer)
  const next: PeerState = { ...state }
  const logs: LogLine[] = []
  noteFallback(next, logs, short, report.failedUrls, totals.url)
  const heldMs = now - attempt.startedAt
  // A long-poll with the full wait to a peer whose wait was lowered: has the proxy been fixed?
  const probe = probing(state, attempt.live, attempt.startedAt)
  if (probe && probeHeld(probe, heldMs, attempt.wait)) {
    next.lowered = null
    logs.push({ level: 'info', fields: { peer: short, op: 'sync', msg: proxyFixedMessage({ heldMs, cutMs: probe.cutMs, waitS: policy.liveWaitS }) } })
  }
  // Up to date with a live peer: the next long-poll goes out at once (bursts then arrive as
  // pages: whatever piled up while we stored this answer comes in the next one).
  const live = waitFor(next, now, policy.liveWaitS) > 0 && attempt.peerLive && totals.caughtUp
  // Held past a cut we were not sure of: it was not the proxy's limit.
  if (attempt.live && heldMs >= (state.lastCutMs ?? Infinity)) next.lastCutMs = null
  next.liveReady = live
  // An answer with nothing new that was not held (the peer shutting down, or one that does not hold)
  // must not turn into a busy loop: those back off like failures.
  // Likewise an answer whose cursor did not move: a peer that sends the same page again.
  next.quickEmpty = attempt.live && !totals.moved && heldMs < LIVE_MIN_HOLD_MS ? state.quickEmpty + 1 : 0
  next.dueAt = due(live ? { kind: 'live', quick: next.quickEmpty } : { kind: 'ok' })
  if (state.lastError !== null) {
    const msg = state.lastError === 'disk_full' ? 'there is room on the disk again: pulls resumed (nothing was lost)' : 'peer recovered'
    logs.push({ level: 'info', fields: { peer: short, op: 'sync', msg } })
    next.lastError = null
  }
  next.failures = 0
  const record = { ok: true as const, at: new Date(now).toISOString() }
  const base = { fetched: totals.fetched, stored: totals.stored, deleted: totals.deleted, dropped: totals.dropped, ms: report.ms }
  next.held = totals.held
  if (totals.held > 0) {
    // Warn when a hold starts or grows; the same hold pulled again every interval is debug.
    const msg = `held ${totals.held} deletions and overwrites (a mass change); accept with: mazemaker peer accept-deletes ${report.peer}`
    const level = state.held < totals.held ? 'warn' : 'debug'
    logs.push({ level, fields: { peer: short, op: 'sync', err: 'deletes_held', count: totals.held, ...base, msg } })
  } else {
    // Each pull at debug: a live peer written to 20 times a second pulls 20 times a second. Copies
    // that broke our rules are not routine: info.
    logs.push({ level: totals.dropped > 0 ? 'info' : 'debug', fields: { peer: short, op: 'sync', ...base, dropped: totals.dropped || undefined } })
  }
  summarize(next, logs, short, totals, now)
  const result: SyncResult = { peer: report.peer, ok: true, ...base }
  return { next, logs, record, result: totals.held > 0 ? { ...result, held: totals.held } : result }
}

/**
 * Adds a pull to the peer's tally; once something arrived and PULL_SUMMARY_MS passed since the
 * last summary (at once for the first), one info line says what arrived since and starts anew.
 * A quiet peer (nothing fetched, deleted or dropped) writes nothing.
 */
function summarize(next: PeerState, logs: LogLine[], short: string, totals: Pulled, now: number): void {
  const t = next.tally
  const tally: PullTally = {
    since: t.since,
    pulls: t.pulls + 1,
    fetched: t.fetched + totals.fetched,
    stored: t.stored + totals.stored,
    deleted: t.deleted + totals.deleted,
    dropped: t.dropped + totals.dropped,
  }
  const active = tally.fetched + tally.deleted + tally.dropped > 0
  if (!active || now - tally.since < PULL_SUMMARY_MS) {
    next.tally = tally
    return
  }
  const { since, ...counts } = tally
  const window = since === 0 ? undefined : Math.round((now - since) / 1000)
  logs.push({
    level: 'info',
    fields: { peer: short, op: 'sync_summary', ...counts, window_s: window, msg: 'pulled since the last summary (each pull: --log-level debug)' },
  })
  next.tally = { ...EMPTY_TALLY, since: now }
}

/** Warn once when a pull had to skip URLs that did not answer, info when the first one tried works again. */
function noteFallback(next: PeerState, logs: LogLine[], short: string, failed: readonly string[], used: string): void {
  if (failed.length > 0) {
    const key = `${failed.join(' ')} ${used}`
    const msg = `${failed.join(', ')} did not answer; pulled from ${used} (tried first from now on)`
    logs.push({
      level: next.fellBack === key ? 'debug' : 'warn',
      fields: { peer: short, op: 'sync', err: 'url_fallback', path: used, count: failed.length, msg },
    })
    next.fellBack = key
  } else if (next.fellBack !== null) {
    next.fellBack = null
    logs.push({ level: 'info', fields: { peer: short, op: 'sync', path: used, msg: 'the first URL tried answers again' } })
  }
}

function judgeFailed(report: Extract<PullReport, { kind: 'failed' }>, state: PeerState, now: number, due: Due, policy: JudgePolicy): Judgement {
  const { attempt, code, budget } = report
  const short = shortId(report.peer)
  const next: PeerState = { ...state, liveReady: false }
  const heldMs = now - attempt.startedAt
  if (attempt.live && !budget && isProxyCut(code, heldMs, attempt.wait)) {
    const cut = judgeProxyCut(report, next, now, heldMs, due, policy)
    if (cut) return cut
  }
  const text = budget ? `pull ran over its budget of ${Math.round(policy.budgetMs / 1000)} s; what arrived before is kept` : report.detail
  const logs: LogLine[] = []
  // A full disk is the operator's to fix, not a fault of ours: no error line, and no pull record
  // (the store cannot write one); the pull is tried again on the backoff and resumes by itself.
  const diskFull = code === 'disk_full'
  if (!report.expected && !budget && code !== 'quota_exceeded' && !diskFull)
    logs.push({ level: 'error', fields: { peer: short, op: 'sync', err: code, msg: report.detail } })
  // The store's count survives restarts; ours goes on when the store cannot write (a full disk).
  const failures = Math.max(report.failuresBefore, state.failures) + 1
  next.failures = failures
  next.dueAt = due({ kind: 'failed', failures, busy: code === 'http_429' })
  // First failure (or a new kind of failure) at warn, identical repeats at debug.
  logs.push({ level: state.lastError === code ? 'debug' : 'warn', fields: { peer: short, op: 'sync', err: code, detail: text, failures, ms: report.ms } })
  next.lastError = code
  const record = diskFull ? null : { ok: false as const, error: `${code}: ${text}` }
  return { next, logs, record, result: failure(report.peer, report.ms, code, text) }
}

/**
 * A held long-poll cut by a proxy (proxy-cut.ts). The first cut is retried live at once; a
 * second after about the same hold lowers this peer's wait under it and says so. Returns null
 * when the cut is to be handled as an ordinary failure (it did not agree with the last one);
 * `next` then remembers this cut. A probe cut (the proxy still cuts) keeps the lowered wait,
 * quietly, until the next probe. Nothing is recorded as a failure: the cursor did not move.
 */
function judgeProxyCut(
  report: Extract<PullReport, { kind: 'failed' }>,
  next: PeerState,
  now: number,
  heldMs: number,
  due: Due,
  policy: JudgePolicy,
): Judgement | null {
  const short = shortId(report.peer)
  const { code, ms, detail } = report
  const cutResult = (d: string) => failure(report.peer, ms, 'proxy_cut', d)
  const probe = probing(next, true, report.attempt.startedAt)
  if (probe) {
    // The proxy still cuts: it was warned about once; the lowered wait stays until the next probe.
    next.lowered = { ...probe, probeAt: now + PROXY_REPROBE_MS }
    const msg = `the full ${policy.liveWaitS} s wait was cut again after ${Math.round(heldMs / 1000)} s: long-polls keep waiting ${probe.waitS} s; trying again in an hour`
    return holdAgain(next, probe.waitS, due, [{ level: 'debug', fields: { peer: short, op: 'sync', err: code, ms, msg } }], cutResult(detail))
  }
  const first = next.lastCutMs
  next.lastCutMs = heldMs
  if (first !== null && !cutsAgree(first, heldMs)) return null
  if (first === null) {
    const msg = 'held request cut before its wait; asking again at once'
    return holdAgain(next, policy.liveWaitS, due, [{ level: 'debug', fields: { peer: short, op: 'sync', err: code, ms, msg } }], cutResult(detail))
  }
  next.lastCutMs = null
  const low = lowerWait(Math.min(first, heldMs), now)
  next.lowered = low
  const url = /POST (\S+)/.exec(detail)?.[1] ?? 'this peer'
  const msg = proxyCutMessage({ url, code, cutMs: low.cutMs, waitS: policy.liveWaitS, nowS: low.waitS })
  return holdAgain(
    next,
    low.waitS,
    due,
    [{ level: 'warn', fields: { peer: short, op: 'sync', err: 'proxy_cut', ms, msg } }],
    cutResult(low.waitS === 0 ? msg : detail),
  )
}

/**
 * After a cut: still up to date as far as we know (nothing was lost: the cursor did not move),
 * so hold again now, or, with no wait left that fits under the proxy, pull on the interval.
 */
function holdAgain(next: PeerState, waitS: number, due: Due, logs: LogLine[], result: SyncResult): Judgement {
  next.liveReady = waitS > 0
  next.dueAt = due(waitS > 0 ? { kind: 'live', quick: 0 } : { kind: 'ok' })
  return { next, logs, record: null, result }
}

function failure(peer: string, ms: number, error: PodErrorCode, detail: string): SyncResult {
  return { peer, ok: false, fetched: 0, stored: 0, deleted: 0, dropped: 0, ms, error, detail }
}
