/**
 * One pull as the loop starts it: find the peer's URLs, pull (pull-peer.ts) and report how it
 * ended, without judging it (judge-pull.ts does). Every way it can end is one PullReport.
 */
import { type PairKey, type PeerRecord, type PodId, type PublicKey, shortId } from '../identity'
import type { Clock } from '../lib/clock'
import type { SkipReason, StopReason } from '../lib/codes'
import { PeerError, PodError } from '../lib/errors'
import type { Logger } from '../lib/log'
import { createProgress, type Progress } from '../lib/progress'
import type { Attempt, PullReport } from './judge-pull'
import { type PeerState, waitFor } from './peer-state'
import type { FetchThread } from './off-thread-fetch'
import { pullPeer, PullStopped, type PullContext, type PullStore } from './pull-peer'
import { liveWaitS } from './scheduler'

/** What the loop knows of a pull it started. */
export interface FlightView {
  peer: PeerRecord
  /** A long-poll. */
  live: boolean
  /** Why we stopped it ourselves, if we did (`timeout`: the budget ran out; `superseded`; a relationship change). */
  reason: StopReason | null
  abort: AbortController
}

export interface AttemptDeps {
  selfId: PodId
  store: PullStore
  pairKey(peerId: PodId, key: PublicKey): Promise<PairKey>
  resolveUrl(peer: PeerRecord): Promise<string | readonly string[] | null>
  pendingCause?(peer: PeerRecord): string | null
  peerHeaders?(peerId: PodId, url: string): Record<string, string>
  intervalMs(): number
  connectTimeoutMs?: number
  fetch?: typeof fetch
  clock: Clock
  log: Logger
  random(): number
  /** Our long-poll wait (s). */
  liveWaitS: number
  /** null while `started` is still a relationship we pull from, else why not. */
  whyNot(started: PeerRecord): SkipReason | null
  /** The pod is shutting down. */
  stopping(): boolean
  /** The fetch thread the loop's pulls share where fetch runs on the main thread (off-thread-fetch.ts). */
  fetchThread?: FetchThread
}

export async function attemptPull(deps: AttemptDeps, flight: FlightView, state: PeerState): Promise<PullReport> {
  const { peer } = flight
  if (!peer.key) return { kind: 'not_pulled', peer: peer.id, error: 'revoked', detail: 'no key file for this peer' }
  if (!peer.sync) return { kind: 'not_pulled', peer: peer.id, error: 'paused', detail: 'sync = false for this peer' }
  let urls: readonly string[]
  try {
    const found = await deps.resolveUrl(peer)
    urls = found === null ? [] : typeof found === 'string' ? [found] : found
  } catch {
    urls = []
  }
  // handshake-pending: nothing to pull from yet. A rendezvous peer may register any moment
  // (heartbeats are every minute), so look again soon, not a whole interval later.
  if (urls.length === 0) {
    const detail = deps.pendingCause?.(peer) ?? 'no URL for this peer yet'
    return { kind: 'not_pulled', peer: peer.id, error: 'handshake_pending', detail }
  }
  return pullFrom(deps, flight, state, urls)
}

async function pullFrom(deps: AttemptDeps, flight: FlightView, state: PeerState, baseUrls: readonly string[]): Promise<PullReport> {
  const { clock } = deps
  const peer = flight.peer as PeerRecord & { key: PublicKey }
  const started = performance.now()
  const startedAt = clock.now()
  const wait = flight.live ? liveWaitS(waitFor(state, startedAt, deps.liveWaitS), deps.random()) : 0
  const attempt: Attempt = { live: flight.live, startedAt, wait, peerLive: peer.live !== false }
  const failedUrls: string[] = []
  // A pull of many pages (a big first pull) reports progress in the log; one page says nothing.
  let progress = null as Progress | null
  const ctx: PullContext = {
    selfId: deps.selfId,
    store: deps.store,
    pairKey: deps.pairKey,
    now: () => clock.now(),
    fetch: deps.fetch,
    wait,
    signal: flight.abort.signal,
    current: () => flight.reason ?? deps.whyNot(peer),
    connectTimeoutMs: deps.connectTimeoutMs,
    fetchThread: deps.fetchThread,
    onAttempt: (url, err, ms) => {
      if (err) failedUrls.push(url)
      deps.log.debug({ peer: shortId(peer.id), op: 'connect', path: url, err: err?.code, ms, msg: err ? err.message : 'answered and verified' })
    },
    onPage: (entries, more) => {
      if (more) progress ??= createProgress({ what: 'pull', unit: 'memories', log: deps.log.with({ peer: shortId(peer.id) }), now: () => clock.now() })
      progress?.add(entries)
    },
  }
  const base = { peer: peer.id }
  try {
    const totals = await pullPeer(ctx, {
      id: peer.id,
      key: peer.key,
      baseUrls,
      scope: peer.scope,
      headers: deps.peerHeaders ? (url) => deps.peerHeaders!(peer.id, url) : undefined,
    })
    const ms = Math.round(performance.now() - started)
    // Same synchronous step as the write: a removal after the last page leaves no trace.
    const gone = deps.whyNot(peer)
    if (gone) return { kind: 'stopped', ...base, why: gone, ms, detail: 'relationship ended after the last page' }
    return { kind: 'pulled', ...base, attempt, totals, failedUrls, ms }
  } catch (err) {
    const ms = Math.round(performance.now() - started)
    const detail = err instanceof Error ? err.message : String(err)
    // Cut short by our own shutdown or a relationship change: not the peer's failure.
    if (deps.stopping()) return { kind: 'stopped', ...base, why: 'stopped', ms, detail }
    if (flight.reason === 'superseded') return { kind: 'superseded', ...base, ms, detail }
    const budget = flight.reason === 'timeout'
    if (!budget && (flight.reason || err instanceof PullStopped))
      return { kind: 'stopped', ...base, why: flight.reason ?? (err as PullStopped).code, ms, detail }
    const code = budget ? 'timeout' : err instanceof PodError ? err.code : 'internal'
    const failuresBefore = deps.store.peerState(peer.id).consecutive_failures
    return { kind: 'failed', ...base, attempt, code, detail, budget, expected: err instanceof PeerError, failuresBefore, ms }
  } finally {
    progress?.finish()
  }
}
