/**
 * The pull schedule as pure functions: when a peer is due next after an outcome, which due
 * peers may start now (the concurrency cap), and what a page means for the pull it belongs to
 * (done, next page, page cap, stuck cursor). No clock, no I/O: sync-loop.ts and pull-peer.ts
 * call these with the time and the randomness they hold, so every rule is unit-tested alone.
 */
import { BACKOFF_BASE_MS, BUSY_RETRIES, BUSY_RETRY_MS, LIVE_WAIT_JITTER_S, MAX_PAGES_PER_PULL, PENDING_RETRY_MS, SYNC_JITTER_FRACTION } from './constants'

/** How a pull attempt ended, as far as scheduling cares. */
export type PullOutcome =
  /** Pulled (or held, quota aside): next one an interval away, brought forward by jitter. */
  | { kind: 'ok' }
  /** Not pulled on purpose (paused, revoked, removed): looked at again an interval later. */
  | { kind: 'skipped' }
  /** No URL yet (rendezvous peer not registered): looked up again within a minute. */
  | { kind: 'pending' }
  /**
   * Pulled up to date from a live peer: the next long-poll goes out at once, unless the peer
   * answered empty without holding (`quick` such answers in a row: shutting down, or it does
   * not hold), then after a backoff as for failures.
   */
  | { kind: 'live'; quick: number }
  /** Failed; `failures` counts this one (1 = first failure in a row); `busy`: answered 429. */
  | { kind: 'failed'; failures: number; busy?: boolean }

export interface DueInput {
  outcome: PullOutcome
  now: number
  intervalMs: number
  /** A number in [0, 1), e.g. Math.random(). */
  random: number
}

/**
 * The time the peer is due again. After a success: one interval later, brought forward by up
 * to SYNC_JITTER_FRACTION of it (pods that start together drift apart). After a failure:
 * BACKOFF_BASE_MS doubling per failure in a row, never longer than the interval (a 429's first
 * BUSY_RETRIES: about BUSY_RETRY_MS).
 */
export function nextDue({ outcome, now, intervalMs, random }: DueInput): number {
  switch (outcome.kind) {
    case 'live':
      return outcome.quick > 0 ? now + backoffMs(outcome.quick, intervalMs) : now
    case 'ok':
    case 'skipped':
      return now + intervalMs - Math.floor(random * intervalMs * SYNC_JITTER_FRACTION)
    case 'pending':
      return now + Math.min(intervalMs, PENDING_RETRY_MS)
    case 'failed':
      // Spread over 0.5–1.5 × BUSY_RETRY_MS, so pullers refused together do not come back together.
      if (outcome.busy && outcome.failures <= BUSY_RETRIES) return now + Math.round(BUSY_RETRY_MS * (0.5 + random))
      return now + backoffMs(outcome.failures, intervalMs)
  }
}

/** Wait after `failures` failures in a row: 5 s, 10 s, 20 s … capped at the interval. */
export function backoffMs(failures: number, intervalMs: number): number {
  // The exponent is bounded so a peer failing for months never overflows to Infinity/NaN.
  const exp = Math.min(Math.max(0, failures - 1), 40)
  return Math.min(intervalMs, BACKOFF_BASE_MS * 2 ** exp)
}

/** What planStarts needs to know of a peer. */
export interface PlanPeer {
  /** When it is due (0: now). */
  dueAt: number
  /** Its next pull is a long-poll: it takes no slot of the concurrency cap. */
  liveReady: boolean
  /** A pull of it is in flight. */
  inFlight: boolean
}

/**
 * The peers to start now, in the given order: every due long-poll, and due others while slots
 * are free (`free` = MAX_CONCURRENT_PULLS minus the slotted pulls in flight). `nextDue`: when
 * the next peer not started is due (now, for one waiting for a slot; Infinity: none). One pass:
 * the loop re-plans after every pull, over thousands of peers.
 */
export function planStarts<T>(peers: Iterable<T>, about: (peer: T) => PlanPeer, free: number, now: number): { start: T[]; nextDue: number } {
  const start: T[] = []
  let nextDue = Number.POSITIVE_INFINITY
  for (const peer of peers) {
    const p = about(peer)
    if (p.inFlight) continue
    if (p.dueAt > now) nextDue = Math.min(nextDue, p.dueAt)
    else if (p.liveReady) start.push(peer)
    else if (free > 0) {
      start.push(peer)
      free--
    } else nextDue = now
  }
  return { start, nextDue }
}

/** How long the loop may sleep: until the soonest due peer, at most an interval, at least `floorMs`. */
export function sleepMs(dueTimes: Iterable<number>, now: number, intervalMs: number, floorMs = 1000): number {
  let soonest = now + intervalMs
  for (const t of dueTimes) soonest = Math.min(soonest, t)
  return Math.max(soonest - now, floorMs)
}

export type PageStep = 'done' | 'next' | 'page_cap' | 'stuck'

/**
 * What to do after page number `pages` (1-based) of a pull that asked from `since`:
 * `done` when the peer has nothing more, `stuck` when it says more without moving its cursor
 * (a loop: the pull fails with bad_response), `page_cap` after MAX_PAGES_PER_PULL pages (the
 * rest comes at the next pull), else `next`.
 */
export function pageStep(page: { more: boolean; cursor: string }, since: string | null, pages: number, maxPages = MAX_PAGES_PER_PULL): PageStep {
  if (!page.more) return 'done'
  if (page.cursor === since) return 'stuck'
  if (pages >= maxPages) return 'page_cap'
  return 'next'
}

/**
 * The `wait` (whole seconds) a live pull asks for, given the most it may ask (`maxWait`) and
 * `random` in [0, 1): up to LIVE_WAIT_JITTER_S shorter (never more than a fifth of the wait), so
 * 2,000 peers that started together do not all re-ask together. Past the first cycle each peer's
 * phase is the sum of its own draws, so they spread further on their own: a narrow range keeps
 * them apart while re-asking as seldom as the cap allows (an idle hub's cost is its re-ask rate).
 */
export function liveWaitS(maxWait: number, random: number): number {
  return maxWait - Math.floor(random * Math.min(LIVE_WAIT_JITTER_S, maxWait / 5))
}
