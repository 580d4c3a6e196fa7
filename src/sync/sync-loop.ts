/**
 * The pull loop, in the pod's own event loop. Each peer is scheduled on its own: the loop
 * starts every peer that is due (at most MAX_CONCURRENT_PULLS in flight) and sleeps until the
 * next one is due or a pull ends; a slow peer holds only its own slot, never another peer's
 * pull. After a success the next pull is one interval away (with jitter); after a failure it
 * backs off exponentially, capped at the interval (scheduler.ts).
 *
 * Every pull has a time budget (PULL_BUDGET_MS) and stops as soon as its relationship does:
 * removal, pause, a deleted or replaced key file, a new scope. peerChanged() (called by the
 * admin routes) aborts at once; a watchdog notices edits by hand within
 * RELATIONSHIP_CHECK_MS; and pull-peer.ts checks again right before every page is stored.
 */
import type { Clock } from '../lib/clock'
import type { Logger } from '../lib/log'
import { PeerError, PodError } from '../lib/errors'
import { shortId, type PairKey, type PeerRecord, type PodId, type PublicKey } from '../identity'
import type { Store } from '../store'
import type { SyncResult } from '../api/types'

export type { SyncResult } from '../api/types'
import { LIVE_MIN_HOLD_MS, LIVE_WAIT_S, MAX_CONCURRENT_PULLS, PROXY_REPROBE_MS, PULL_BUDGET_MS, RELATIONSHIP_CHECK_MS } from './constants'
import { cutsAgree, isProxyCut, type LoweredWait, lowerWait, probeDue, probeHeld, proxyCutMessage, proxyFixedMessage } from './proxy-cut'
import { pullPeer, PullStopped } from './pull-peer'
import { liveWaitS, nextDue, sleepMs, startable, type PullOutcome } from './scheduler'

export type SyncStore = Pick<Store, 'applyRemote' | 'peerState' | 'resetScope' | 'recordPull'>

/** Held long-polls have their relationship re-read every this many watchdog rounds. */
const LIVE_CHECK_EVERY = 10

/** Results for peers that were not pulled, or whose pull we stopped ourselves: not the peer's failure. */
const SKIPPED = new Set(['revoked', 'paused', 'handshake_pending', 'removed', 'scope_changed', 'stopped', 'superseded'])

export interface SyncLoopDeps {
  selfId: PodId
  listPeers(): PeerRecord[]
  /** The peer as peers.toml and its key file say right now (default: found in listPeers()). */
  getPeer?(id: string): PeerRecord | null
  pairKey(peerId: PodId, key: PublicKey): Promise<PairKey>
  store: SyncStore
  clock: Clock
  log: Logger
  /** Current interval (pod.toml / env may change between ticks). */
  intervalMs(): number
  /** The URLs to try now, in order (direct ones, rendezvous lookups, the last verified first); null or [] = pending. */
  resolveUrl(peer: PeerRecord): Promise<string | readonly string[] | null>
  /** Per-peer secret headers to send with every request to this peer (never logged). */
  peerHeaders?(peerId: PodId): Record<string, string>
  /** Time to response headers per URL attempt (default CONNECT_TIMEOUT_MS). */
  connectTimeoutMs?: number
  fetch?: typeof fetch
  random?: () => number
  /** Time budget of one pull (default PULL_BUDGET_MS). */
  pullBudgetMs?: number
  /**
   * Long-poll wait in seconds for peers with `live = true` (default LIVE_WAIT_S; 0 = no live
   * pulls, every peer on the interval alone).
   */
  liveWaitSeconds?: number
  /** Called after a pull from `url` verified and stored (lets the locator trust that URL). */
  confirmUrl?(peer: PeerRecord, url: string): void
  /** Observer for metrics. */
  onPulled?(peerId: string, result: SyncResult): void
}

export interface SyncLoop {
  start(): void
  /**
   * Pulls the given peer (or every peer) now and returns one result per peer. A pull already in
   * flight for a peer is joined (and followed by a fresh one if it succeeded); other peers'
   * pulls are neither waited for nor delayed.
   */
  syncNow(peer?: string): Promise<SyncResult[]>
  /** Starts the peers that are due now and waits for those pulls (tests; the loop does not wait). */
  tick(): Promise<SyncResult[]>
  /** The relationship with `id` changed (removed, paused, re-keyed): stops its pull in flight if needed. */
  peerChanged(id: string): void
  /** Resolves when no pull is in flight (tests). */
  idle(): Promise<void>
  close(): Promise<void>
}

interface Flight {
  peer: PeerRecord
  abort: AbortController
  /** Why we aborted it ourselves (a relationship change or the budget), if we did. */
  reason: string | null
  forced: boolean
  /** A long-poll: the peer may hold it until it has something for us. Takes no concurrency slot. */
  live: boolean
  /** Stops the pull for `reason` (once). */
  cut(reason: string): void
  done: Promise<SyncResult>
}

export function createSyncLoop(deps: SyncLoopDeps): SyncLoop {
  const { clock, log } = deps
  const random = deps.random ?? Math.random
  const budgetMs = deps.pullBudgetMs ?? PULL_BUDGET_MS
  const liveWait = deps.liveWaitSeconds ?? LIVE_WAIT_S
  const getPeer = deps.getPeer ?? ((id: string) => deps.listPeers().find((p) => p.id === id) ?? null)
  const dueAt = new Map<string, number>()
  const lastErrorCode = new Map<string, string>()
  const lastHeld = new Map<string, number>()
  /** Peers whose last pull had to fall back past the first URL it tried: `<failed url> <used url>`. */
  const fellBack = new Map<string, string>()
  const flights = new Map<string, Flight>()
  /**
   * Live peers whose last pull (in this process) succeeded and caught up: their next pull is a
   * long-poll. A peer joins after a normal pull (so a restart's catch-up stays under the
   * concurrency cap) and leaves on any failure, falling back to backoff and the interval.
   */
  const liveReady = new Set<string>()
  /** Live peers behind a proxy that cuts held requests: the wait that fits under it, and when to try the full one again. */
  const lowered = new Map<string, LoweredWait>()
  /** The hold (ms) after which a peer's last long-poll was cut, waiting for a second cut to confirm it. */
  const lastCut = new Map<string, number>()
  /** The long-poll wait for `peerId` now: ours, or less if a proxy in front of it cuts held requests (ours when a probe is due). */
  const waitFor = (peerId: string) => {
    const low = lowered.get(peerId)
    return !low || probeDue(low, clock.now()) ? liveWait : Math.min(liveWait, low.waitS)
  }
  /** Live peers' empty answers in a row that came back without being held. */
  const quickEmpty = new Map<string, number>()
  /**
   * When each peer's tombstones were last settled. Live pulls stage them (see pull-peer.ts) so
   * the mass-delete guard sees a whole burst; at most an interval after the last settle, the next
   * pull settles whatever is staged, so a peer writing without pause cannot keep them waiting
   * (nor split a mass delete over windows shorter than the interval pulls would have judged).
   */
  const lastSettled = new Map<string, number>()
  /** The one relationship watchdog for all flights (not a timer per pull: 2,000 live peers). */
  let watchdog: AbortController | null = null
  /** Forced pulls waiting for a free slot. */
  let slotWaiters: (() => void)[] = []
  const stop = new AbortController()
  let wake = new AbortController()
  let running: Promise<void> | null = null

  function schedule(peerId: string, outcome: PullOutcome): void {
    dueAt.set(peerId, nextDue({ outcome, now: clock.now(), intervalMs: deps.intervalMs(), random: random() }))
  }

  /** null while `started` is still a relationship we pull from, else why not. */
  function whyNot(started: PeerRecord): string | null {
    const now = getPeer(started.id)
    if (!now) return 'removed'
    if (!now.key || now.key !== started.key) return 'revoked'
    if (!now.sync) return 'paused'
    if (JSON.stringify(now.scope) !== JSON.stringify(started.scope)) return 'scope_changed'
    return null
  }

  function result(peer: string, ms: number, extra: Partial<SyncResult> = {}): SyncResult {
    return { peer, ok: false, fetched: 0, stored: 0, deleted: 0, dropped: 0, ms, ...extra }
  }

  async function pullOne(flight: Flight, baseUrls: readonly string[]): Promise<SyncResult> {
    const peer = flight.peer as PeerRecord & { key: PublicKey }
    const started = performance.now()
    const startedAt = clock.now()
    const short = shortId(peer.id)
    const failedUrls: string[] = []
    const maxWait = waitFor(peer.id)
    const wait = flight.live ? liveWaitS(maxWait, random()) : 0
    // A long-poll with the full wait to a peer whose wait was lowered: has the proxy been fixed?
    const low = lowered.get(peer.id)
    const probe = flight.live && low !== undefined && probeDue(low, startedAt) ? low : null
    const onAttempt = (url: string, err: PodError | null, ms: number) => {
      if (err) failedUrls.push(url)
      log.debug({ peer: short, op: 'connect', path: url, err: err?.code, ms, msg: err ? err.message : 'answered and verified' })
    }
    try {
      const totals = await pullPeer(
        {
          selfId: deps.selfId,
          store: deps.store,
          pairKey: deps.pairKey,
          now: () => clock.now(),
          fetch: deps.fetch,
          wait,
          stageTombstones: flight.live && clock.now() - (lastSettled.get(peer.id) ?? 0) < deps.intervalMs(),
          signal: flight.abort.signal,
          current: () => flight.reason ?? whyNot(peer),
          connectTimeoutMs: deps.connectTimeoutMs,
          onAttempt,
        },
        { id: peer.id, key: peer.key, baseUrls, scope: peer.scope, headers: deps.peerHeaders?.(peer.id) },
      )
      const ms = Math.round(performance.now() - started)
      // Same synchronous step as the write: a removal after the last page leaves no trace.
      const gone = whyNot(peer)
      if (gone) return stopped(flight, gone, ms, 'relationship ended after the last page')
      deps.store.recordPull(peer.id, { ok: true, at: new Date(clock.now()).toISOString() })
      if (totals.settled) lastSettled.set(peer.id, clock.now())
      deps.confirmUrl?.(peer, totals.url)
      noteFallback(peer.id, failedUrls, totals.url)
      if (probe && probeHeld(probe, clock.now() - startedAt, wait)) {
        lowered.delete(peer.id)
        log.info({ peer: short, op: 'sync', msg: proxyFixedMessage({ heldMs: clock.now() - startedAt, cutMs: probe.cutMs, waitS: liveWait }) })
      }
      // Up to date with a live peer: the next long-poll goes out at once (bursts then arrive as
      // pages: whatever piled up while we stored this answer comes in the next one).
      const live = waitFor(peer.id) > 0 && peer.live !== false && totals.caughtUp
      // Held past a cut we were not sure of: it was not the proxy's limit.
      if (flight.live && clock.now() - startedAt >= (lastCut.get(peer.id) ?? Infinity)) lastCut.delete(peer.id)
      if (live) liveReady.add(peer.id)
      else liveReady.delete(peer.id)
      // An answer with nothing new that was not held (the peer shutting down, or one that does not hold)
      // must not turn into a busy loop: those back off like failures.
      // Likewise an answer whose cursor did not move: a peer that sends the same page again.
      const quick = flight.live && !totals.moved && clock.now() - startedAt < LIVE_MIN_HOLD_MS ? (quickEmpty.get(peer.id) ?? 0) + 1 : 0
      if (quick > 0) quickEmpty.set(peer.id, quick)
      else quickEmpty.delete(peer.id)
      schedule(peer.id, live ? { kind: 'live', quick } : { kind: 'ok' })
      if (lastErrorCode.has(peer.id)) {
        log.info({ peer: short, op: 'sync', msg: 'peer recovered' })
        lastErrorCode.delete(peer.id)
      }
      const base = { fetched: totals.fetched, stored: totals.stored, deleted: totals.deleted, dropped: totals.dropped, ms }
      if (totals.held > 0) {
        // Warn when a hold starts or grows; the same hold pulled again every interval is debug.
        const level = (lastHeld.get(peer.id) ?? 0) < totals.held ? 'warn' : 'debug'
        lastHeld.set(peer.id, totals.held)
        log[level]({
          peer: short,
          op: 'sync',
          err: 'deletes_held',
          count: totals.held,
          ...base,
          msg: `held ${totals.held} deletions (a mass delete); accept with: mazemaker peer accept-deletes ${peer.id}`,
        })
        return { peer: peer.id, ok: true, ...base, held: totals.held }
      }
      lastHeld.delete(peer.id)
      // A quiet pull (nothing new) every five minutes per peer would drown the log: debug.
      const level = totals.fetched > 0 || totals.dropped > 0 ? 'info' : 'debug'
      log[level]({ peer: short, op: 'sync', ...base, dropped: totals.dropped || undefined })
      return { peer: peer.id, ok: true, ...base }
    } catch (err) {
      const ms = Math.round(performance.now() - started)
      const detail = err instanceof Error ? err.message : String(err)
      liveReady.delete(peer.id)
      // Cut short by our own shutdown or a relationship change: not the peer's failure.
      if (stop.signal.aborted) return stopped(flight, 'stopped', ms, detail)
      // A held long-poll given up for a sync-now pull: that pull follows at once.
      if (flight.reason === 'superseded') return result(peer.id, ms, { error: 'superseded', detail })
      const budget = flight.reason === 'budget'
      if (!budget && (flight.reason || err instanceof PullStopped)) return stopped(flight, flight.reason ?? (err as PodError).code, ms, detail)
      const code = budget ? 'timeout' : err instanceof PodError ? err.code : 'internal'
      if (flight.live && !budget && isProxyCut(code, clock.now() - startedAt, wait)) {
        const handled = proxyCut(flight, code, clock.now() - startedAt, ms, detail, probe)
        if (handled) return handled
      }
      const text = budget ? `pull ran over its budget of ${Math.round(budgetMs / 1000)} s; what arrived before is kept` : detail
      if (!(err instanceof PeerError) && !budget && code !== 'quota_exceeded') log.error({ peer: short, op: 'sync', err: code, msg: detail })
      deps.store.recordPull(peer.id, { ok: false, error: `${code}: ${text}` })
      const failures = deps.store.peerState(peer.id).consecutive_failures
      schedule(peer.id, { kind: 'failed', failures })
      // First failure (or a new kind of failure) at warn, identical repeats at debug.
      const level = lastErrorCode.get(peer.id) === code ? 'debug' : 'warn'
      lastErrorCode.set(peer.id, code)
      log[level]({ peer: short, op: 'sync', err: code, detail: text, failures, ms })
      return result(peer.id, ms, { error: code, detail: text })
    }
  }

  /**
   * A held long-poll cut by a proxy (proxy-cut.ts). The first cut is retried live at once; a
   * second after about the same hold lowers this peer's wait under it and says so. Returns null
   * when the cut is to be handled as an ordinary failure (it did not agree with the last one).
   * A probe cut (the proxy still cuts) keeps the lowered wait, quietly, until the next probe.
   */
  function proxyCut(flight: Flight, code: string, heldMs: number, ms: number, detail: string, probe: LoweredWait | null): SyncResult | null {
    const { peer } = flight
    const short = shortId(peer.id)
    if (probe) {
      // The proxy still cuts: it was warned about once; the lowered wait stays until the next probe.
      probe.probeAt = clock.now() + PROXY_REPROBE_MS
      const msg = `the full ${liveWait} s wait was cut again after ${Math.round(heldMs / 1000)} s: long-polls keep waiting ${probe.waitS} s; trying again in an hour`
      log.debug({ peer: short, op: 'sync', err: code, ms, msg })
      return holdAgain(peer.id, probe.waitS, result(peer.id, ms, { error: 'proxy_cut', detail }))
    }
    const first = lastCut.get(peer.id)
    lastCut.set(peer.id, heldMs)
    if (first !== undefined && !cutsAgree(first, heldMs)) return null
    if (first === undefined) {
      log.debug({ peer: short, op: 'sync', err: code, ms, msg: 'held request cut before its wait; asking again at once' })
      return holdAgain(peer.id, liveWait, result(peer.id, ms, { error: 'proxy_cut', detail }))
    }
    lastCut.delete(peer.id)
    const low = lowerWait(Math.min(first, heldMs), clock.now())
    lowered.set(peer.id, low)
    const url = /POST (\S+)/.exec(detail)?.[1] ?? 'this peer'
    const msg = proxyCutMessage({ url, code, cutMs: low.cutMs, waitS: liveWait, nowS: low.waitS })
    log.warn({ peer: short, op: 'sync', err: 'proxy_cut', ms, msg })
    return holdAgain(peer.id, low.waitS, result(peer.id, ms, { error: 'proxy_cut', detail: low.waitS === 0 ? msg : detail }))
  }

  /**
   * After a cut: still up to date as far as we know (nothing was lost: the cursor did not move),
   * so hold again now, or, with no wait left that fits under the proxy, pull on the interval.
   */
  function holdAgain(peerId: string, waitS: number, r: SyncResult): SyncResult {
    if (waitS === 0) {
      liveReady.delete(peerId)
      schedule(peerId, { kind: 'ok' })
    } else {
      liveReady.add(peerId)
      schedule(peerId, { kind: 'live', quick: 0 })
    }
    return r
  }

  /** Warn once when a pull had to skip URLs that did not answer, info when the first one tried works again. */
  function noteFallback(peerId: string, failed: string[], used: string): void {
    const short = shortId(peerId)
    if (failed.length > 0) {
      const key = `${failed.join(' ')} ${used}`
      const level = fellBack.get(peerId) === key ? 'debug' : 'warn'
      fellBack.set(peerId, key)
      log[level]({
        peer: short,
        op: 'sync',
        err: 'url_fallback',
        path: used,
        count: failed.length,
        msg: `${failed.join(', ')} did not answer; pulled from ${used} (tried first from now on)`,
      })
    } else if (fellBack.has(peerId)) {
      fellBack.delete(peerId)
      log.info({ peer: short, op: 'sync', path: used, msg: 'the first URL tried answers again' })
    }
  }

  function stopped(flight: Flight, why: string, ms: number, detail: string): SyncResult {
    liveReady.delete(flight.peer.id)
    if (why !== 'stopped') {
      log.info({ peer: shortId(flight.peer.id), op: 'sync', err: why, ms, msg: 'pull stopped: the relationship changed; nothing more stored' })
      schedule(flight.peer.id, { kind: 'skipped' })
    }
    return result(flight.peer.id, ms, { error: why, detail })
  }

  async function pullIfReachable(flight: Flight): Promise<SyncResult> {
    const { peer } = flight
    const skipped = (error: string, detail: string, outcome: PullOutcome = { kind: 'skipped' }): SyncResult => {
      liveReady.delete(peer.id)
      schedule(peer.id, outcome)
      return result(peer.id, 0, { error, detail })
    }
    if (!peer.key) return skipped('revoked', 'no key file for this peer')
    if (!peer.sync) return skipped('paused', 'sync = false for this peer')
    let urls: readonly string[]
    try {
      const found = await deps.resolveUrl(peer)
      urls = found === null ? [] : typeof found === 'string' ? [found] : found
    } catch {
      urls = []
    }
    // handshake-pending: nothing to pull from yet. A rendezvous peer may register any moment
    // (heartbeats are every minute), so look again soon, not a whole interval later.
    if (urls.length === 0) return skipped('handshake_pending', 'no URL for this peer yet', { kind: 'pending' })
    return pullOne(flight, urls)
  }

  /** Starts one pull now; the caller has checked that a slot is free and none is in flight. */
  function launch(peer: PeerRecord, forced: boolean): Flight {
    const abort = new AbortController()
    const live = !forced && waitFor(peer.id) > 0 && peer.live !== false && liveReady.has(peer.id)
    const cut = (reason: string) => {
      if (flight.reason || abort.signal.aborted) return
      flight.reason = reason
      abort.abort(new PullStopped(reason, `pull stopped: ${reason}`))
    }
    const flight: Flight = { peer, abort, reason: null, forced, live, cut, done: Promise.resolve(null as unknown as SyncResult) }
    const end = new AbortController()
    const onStop = () => abort.abort(stop.signal.reason)
    stop.signal.addEventListener('abort', onStop, { once: true })
    // The budget runs on the injected clock and ends with the pull (a pending timer costs no CPU).
    void clock.sleep(budgetMs, end.signal).then(() => {
      if (!end.signal.aborted) cut('budget')
    })
    flight.done = (async () => {
      try {
        const r = await pullIfReachable(flight)
        if (!SKIPPED.has(r.error ?? '')) deps.onPulled?.(peer.id, r)
        return r
      } finally {
        end.abort()
        stop.signal.removeEventListener('abort', onStop)
        flights.delete(peer.id)
        if (flights.size === 0) {
          watchdog?.abort()
          watchdog = null
        }
        const waiters = slotWaiters
        slotWaiters = []
        for (const w of waiters) w()
        wake.abort() // a slot is free and the schedule moved: let the loop re-plan
      }
    })()
    flights.set(peer.id, flight)
    startWatchdog()
    return flight
  }

  /** While any pull is in flight, re-reads each one's relationship every RELATIONSHIP_CHECK_MS (hand edits). */
  function startWatchdog(): void {
    if (watchdog) return
    const ac = new AbortController()
    watchdog = ac
    void (async () => {
      for (let round = 1; !ac.signal.aborted; round++) {
        await clock.sleep(RELATIONSHIP_CHECK_MS, ac.signal)
        if (ac.signal.aborted) return
        for (const f of flights.values()) {
          // A held long-poll stores nothing without the check right before storing (pull-peer.ts)
          // and admin changes cut it at once (peerChanged); a hand edit only needs to end the
          // idle request eventually. So 2,000 held pulls cost two stats each per 10 s, not per second.
          if (f.live && round % LIVE_CHECK_EVERY !== 0) continue
          const why = whyNot(f.peer)
          if (why) f.cut(why)
        }
      }
    })()
  }

  /** Starts every due peer that fits under the cap; returns the flights started. */
  function launchDue(): Flight[] {
    if (stop.signal.aborted) return []
    const peers = deps.listPeers()
    const byId = new Map<string, PeerRecord>(peers.map((p) => [p.id, p]))
    const now = clock.now()
    // Long-polls mostly wait: they take no slot of the concurrency cap (2,000 live peers).
    const waiting = peers.filter((p) => !flights.has(p.id))
    const live = waiting.filter((p) => liveReady.has(p.id) && (dueAt.get(p.id) ?? 0) <= now)
    const slotted = new Set([...flights.values()].filter((f) => !f.live).map((f) => f.peer.id))
    const ids = startable(
      waiting.filter((p) => !liveReady.has(p.id)).map((p) => p.id),
      dueAt,
      slotted,
      now,
      MAX_CONCURRENT_PULLS,
    )
    return [...live.map((p) => launch(p, false)), ...ids.map((id) => launch(byId.get(id)!, false))]
  }

  /** A forced pull of `peer`: joins one in flight, else waits for a free slot and starts one. */
  async function forced(peer: PeerRecord): Promise<SyncResult> {
    // A held long-poll may sit there for its whole wait: give it up and pull now instead.
    const giveUpLive = async () => {
      const f = flights.get(peer.id)
      if (!f?.live) return false
      f.cut('superseded')
      await f.done
      return true
    }
    await giveUpLive()
    const current = flights.get(peer.id)
    if (current) {
      const joined = await current.done
      // A scheduled pull may have started before what the caller wants pulled: pull again.
      if (!joined.ok || current.forced) return joined
    }
    for (;;) {
      if (stop.signal.aborted) return result(peer.id, 0, { error: 'stopped', detail: 'the pod is shutting down' })
      // The loop may have started the next long-poll meanwhile: give that up too.
      if (await giveUpLive()) continue
      const other = flights.get(peer.id)
      if (other) return other.done
      if (slottedCount() < MAX_CONCURRENT_PULLS) return launch(getPeer(peer.id) ?? peer, true).done
      await new Promise<void>((resolve) => slotWaiters.push(resolve))
    }
  }

  function slottedCount(): number {
    let n = 0
    for (const f of flights.values()) if (!f.live) n++
    return n
  }

  async function tick(): Promise<SyncResult[]> {
    const results = await Promise.all(launchDue().map((f) => f.done))
    return results.filter((r) => !SKIPPED.has(r.error ?? ''))
  }

  async function syncNow(peer?: string): Promise<SyncResult[]> {
    const peers = deps.listPeers().filter((p) => (peer ? p.id === peer : true))
    const results = await Promise.all(peers.map(forced))
    wake.abort() // the schedule changed; let the loop re-plan its sleep
    return results
  }

  function peerChanged(id: string): void {
    const flight = flights.get(id)
    const why = flight ? whyNot(flight.peer) : null
    if (flight && why && !flight.reason) {
      flight.reason = why
      flight.abort.abort(new PullStopped(why, `pull stopped: ${why}`))
    }
    if (!flight && liveWait > 0) {
      // Added, resumed or re-pointed: pull it now (and then hold it live), not at the next interval.
      if (getPeer(id)) dueAt.delete(id)
      wake.abort()
    }
  }

  async function run(): Promise<void> {
    while (!stop.signal.aborted) {
      try {
        launchDue()
      } catch (err) {
        log.error({ op: 'sync', err: 'internal', msg: err instanceof Error ? err.message : String(err) })
      }
      if (stop.signal.aborted) break
      wake = new AbortController()
      const waiting = deps
        .listPeers()
        .filter((p) => !flights.has(p.id))
        .map((p) => dueAt.get(p.id) ?? clock.now())
      await clock.sleep(sleepMs(waiting, clock.now(), deps.intervalMs()), AbortSignal.any([stop.signal, wake.signal]))
    }
  }

  async function idle(): Promise<void> {
    while (flights.size > 0) await Promise.all([...flights.values()].map((f) => f.done))
  }

  return {
    start() {
      running ??= run()
    },
    syncNow,
    tick,
    peerChanged,
    idle,
    async close() {
      stop.abort()
      for (const w of slotWaiters) w()
      await running
      await idle()
    },
  }
}
