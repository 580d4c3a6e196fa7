/**
 * What the pull loop remembers about one peer between its pulls, in this process only (the
 * cursor, last success and failure count live in the store). judge-pull.ts computes the next
 * record from the last one and a pull's outcome; sync-loop.ts keeps one per peer.
 */
import { type LoweredWait, probeDue } from './proxy-cut'

export interface PeerState {
  /** When the next pull is due (0: now; a peer never pulled is due at once). */
  dueAt: number
  /**
   * The next pull is a long-poll: the last pull (in this process) succeeded and caught up with a
   * live peer. A peer gets here after a normal pull (so a restart's catch-up stays under the
   * concurrency cap) and leaves on any failure, falling back to backoff and the interval.
   */
  liveReady: boolean
  /** The code of the failure that started the current run of failures; null after a success. */
  lastError: string | null
  /** Failures in a row in this process (the store counts them too, unless it cannot write). */
  failures: number
  /** Deletions held at the last pull (0: none): a hold that starts or grows is warned about once. */
  held: number
  /** The last pull had to fall back past the first URL it tried: `<failed urls> <used url>`. */
  fellBack: string | null
  /** A proxy in front of this peer cuts held requests: the wait that fits under it, and when to try the full one again. */
  lowered: LoweredWait | null
  /** The hold (ms) after which the last long-poll was cut, waiting for a second cut to confirm it. */
  lastCutMs: number | null
  /** Empty live answers in a row that came back without being held. */
  quickEmpty: number
  /** Successful pulls since the last summary line and what they brought (the log's info line per peer). */
  tally: PullTally
}

export interface PullTally {
  /** When the last summary line was written (0: never). */
  since: number
  pulls: number
  fetched: number
  stored: number
  deleted: number
  dropped: number
}

export const EMPTY_TALLY: Readonly<PullTally> = Object.freeze({ since: 0, pulls: 0, fetched: 0, stored: 0, deleted: 0, dropped: 0 })

export const FRESH_PEER: Readonly<PeerState> = Object.freeze({
  dueAt: 0,
  liveReady: false,
  lastError: null,
  failures: 0,
  held: 0,
  fellBack: null,
  lowered: null,
  lastCutMs: null,
  quickEmpty: 0,
  tally: EMPTY_TALLY,
})

/** The long-poll wait (s) for this peer now: ours, or less if a proxy in front of it cuts held requests (ours when a probe is due). */
export function waitFor(state: PeerState, now: number, liveWaitS: number): number {
  const low = state.lowered
  return !low || probeDue(low, now) ? liveWaitS : Math.min(liveWaitS, low.waitS)
}

/** The lowered wait a long-poll that started at `startedAt` probes (asks the full wait past), if it does. */
export function probing(state: PeerState, live: boolean, startedAt: number): LoweredWait | null {
  return live && state.lowered && probeDue(state.lowered, startedAt) ? state.lowered : null
}
