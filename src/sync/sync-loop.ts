/**
 * The pull loop, in the pod's own event loop. Each peer is scheduled on its own: the loop
 * starts every peer that is due (at most MAX_CONCURRENT_PULLS in flight) and sleeps until the
 * next one is due or a pull ends; a slow peer holds only its own slot, never another peer's
 * pull. After a success the next pull is one interval away (with jitter); after a failure it
 * backs off exponentially, capped at the interval (scheduler.ts).
 *
 * Every pull has a time budget (PULL_BUDGET_MS) and stops as soon as its relationship does
 * (removal, pause, a deleted key file) or changes (key, scope, URLs, `live`: relationship.ts);
 * a changed peer is pulled again at once under its new settings. peerChanged() (called by the
 * admin routes) aborts at once; a watchdog notices edits by hand within
 * RELATIONSHIP_CHECK_MS; and pull-peer.ts checks again right before every page is stored.
 *
 * This file starts pulls (scheduled, forced, live) and keeps one PeerState per peer
 * (peer-state.ts); pull-attempt.ts runs one pull and reports how it ended, and judge-pull.ts
 * decides, as a pure function, what that ending means: next due time, log lines, result.
 */
import type { Clock } from '../lib/clock'
import type { Logger } from '../lib/log'
import { type PairKey, type PeerRecord, type PodId, type PublicKey, shortId } from '../identity'
import { isSkipReason, type SkipReason, type StopReason } from '../lib/codes'
import type { Store } from '../store'
import type { SyncResult } from '../api/types'

export type { SyncResult } from '../api/types'
import { LIVE_WAIT_S, MAX_CONCURRENT_PULLS, PULL_BUDGET_MS, RELATIONSHIP_CHECK_MS } from './constants'
import { judgePull, type PullReport } from './judge-pull'
import { FRESH_PEER, type PeerState, waitFor } from './peer-state'
import { type AttemptDeps, attemptPull } from './pull-attempt'
import { sharedFetchThread } from './off-thread-fetch'
import { PullStopped, type PullStore } from './pull-peer'
import { keepsCursor, stopReason } from './relationship'
import { type PlanPeer, planStarts, sleepMs } from './scheduler'

export type SyncStore = PullStore & Pick<Store, 'recordPull'>

/** Held long-polls have their relationship re-read every this many watchdog rounds. */
const LIVE_CHECK_EVERY = 10

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
  /** Why a peer has no URL to pull from, with the next step (the result's detail when it is handshake-pending). */
  pendingCause?(peer: PeerRecord): string | null
  /** Per-peer secret headers for a request to this peer at `url` (never logged; {} where they may not go). */
  peerHeaders?(peerId: PodId, url: string): Record<string, string>
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
  /** Why this pod's full disk refused the peer's last pull (DiskFull's message), or null: its status is `disk-full` meanwhile. */
  diskFull(id: string): string | null
  /** Resolves when no pull is in flight (tests). */
  idle(): Promise<void>
  close(): Promise<void>
}

interface Flight {
  peer: PeerRecord
  abort: AbortController
  /** Why we aborted it ourselves (a relationship change or the budget), if we did. */
  reason: StopReason | null
  forced: boolean
  /** A long-poll: the peer may hold it until it has something for us. Takes no concurrency slot. */
  live: boolean
  /** Stops the pull for `reason` (once). */
  cut(reason: StopReason): void
  done: Promise<SyncResult>
}

/** One peer as the loop knows it: its state between pulls (judge-pull.ts) and its pull in flight. */
interface Tracked {
  state: PeerState
  flight: Flight | null
  /** The last pull was refused for a full disk: its message (the store records nothing then). */
  diskFull: string | null
}

export function createSyncLoop(deps: SyncLoopDeps): SyncLoop {
  const { clock, log } = deps
  const random = deps.random ?? Math.random
  const budgetMs = deps.pullBudgetMs ?? PULL_BUDGET_MS
  const liveWait = deps.liveWaitSeconds ?? LIVE_WAIT_S
  const getPeer = deps.getPeer ?? ((id: string) => deps.listPeers().find((p) => p.id === id) ?? null)
  const tracked = new Map<string, Tracked>()
  const track = (id: string): Tracked => {
    let t = tracked.get(id)
    if (!t) tracked.set(id, (t = { state: FRESH_PEER, flight: null, diskFull: null }))
    return t
  }
  const planPeer = (p: PeerRecord): PlanPeer => {
    const t = tracked.get(p.id)
    return { dueAt: t?.state.dueAt ?? 0, liveReady: t?.state.liveReady ?? false, inFlight: t?.flight != null }
  }
  const flightOf = (id: string): Flight | null => tracked.get(id)?.flight ?? null
  const flights = function* (): Generator<Flight> {
    for (const t of tracked.values()) if (t.flight) yield t.flight
  }
  let inFlight = 0
  /** Flights that hold a slot of the concurrency cap (every one but long-polls). */
  let slotted = 0
  /** The one relationship watchdog for all flights (not a timer per pull: 2,000 live peers). */
  let watchdog: AbortController | null = null
  /** Forced pulls waiting for a free slot. */
  let slotWaiters: (() => void)[] = []
  const stop = new AbortController()
  let wake = new AbortController()
  let running: Promise<void> | null = null

  /** null while `started` is still a relationship we pull from, else why not. */
  const whyNot = (started: PeerRecord): SkipReason | null => stopReason(started, getPeer(started.id))
  // Bulk pulls running at once share one fetch thread (under a runtime whose fetch needs one).
  const fetchThread = sharedFetchThread()
  const attemptDeps: AttemptDeps = { ...deps, random, liveWaitS: liveWait, whyNot, stopping: () => stop.signal.aborted, fetchThread }

  /** Applies the judgement of a pull's end: the peer's next state, its pull record, the log lines. */
  function settle(flight: Flight, ended: PullReport): SyncResult {
    const report = ended.kind === 'stopped' ? { ...ended, keepsCursor: keepsCursor(ended.why, flight.peer, getPeer(ended.peer)) } : ended
    const t = track(report.peer)
    const policy = { intervalMs: deps.intervalMs(), liveWaitS: liveWait, random: random(), budgetMs }
    const { next, logs, record, result } = judgePull(report, t.state, clock.now(), policy)
    t.state = next
    if (report.kind === 'failed' || report.kind === 'pulled') t.diskFull = report.kind === 'failed' && report.code === 'disk_full' ? report.detail : null
    if (record) {
      // A store that cannot write (a full disk) must not leave the peer unscheduled: the judged
      // state stands, the failure is said once, and the next pull is due as judged.
      try {
        deps.store.recordPull(report.peer, record)
      } catch (err) {
        const msg = `could not record the pull: ${err instanceof Error ? err.message : String(err)}`
        logs.push({ level: 'warn', fields: { peer: shortId(report.peer), op: 'sync', err: 'internal', msg } })
      }
    }
    if (report.kind === 'pulled') deps.confirmUrl?.(flight.peer, report.totals.url)
    // A removed peer leaves nothing behind (added again, it starts afresh).
    if (report.kind === 'stopped' && report.why === 'removed') tracked.delete(report.peer)
    for (const line of logs) log[line.level](line.fields)
    return result
  }

  /** Starts one pull now; the caller has checked that a slot is free and none is in flight. */
  function launch(peer: PeerRecord, forced: boolean): Flight {
    const abort = new AbortController()
    const t = track(peer.id)
    const live = !forced && waitFor(t.state, clock.now(), liveWait) > 0 && peer.live !== false && t.state.liveReady
    const cut = (reason: StopReason) => {
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
      if (!end.signal.aborted) cut('timeout')
    })
    flight.done = (async () => {
      try {
        const r = settle(flight, await attemptPull(attemptDeps, flight, t.state))
        if (!isSkipReason(r.error)) deps.onPulled?.(peer.id, r)
        return r
      } finally {
        end.abort()
        stop.signal.removeEventListener('abort', onStop)
        t.flight = null
        inFlight--
        if (!flight.live) slotted--
        if (inFlight === 0) {
          watchdog?.abort()
          watchdog = null
        }
        const waiters = slotWaiters
        slotWaiters = []
        for (const w of waiters) w()
        wake.abort() // a slot is free and the schedule moved: let the loop re-plan
      }
    })()
    t.flight = flight
    inFlight++
    if (!live) slotted++
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
        for (const f of flights()) {
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

  /**
   * The peers to schedule, re-read at most once per RELATIONSHIP_CHECK_MS, and at once after
   * peerChanged() or a tick(). A read stats every key file (2,000 on a hub), and the loop
   * re-plans after every pull. A peer removed meanwhile is stopped by the check before its
   * first request (pull-peer.ts); a hand edit is seen within the same second as the watchdog's.
   */
  let listed: { at: number; peers: PeerRecord[]; ids: ReadonlySet<string> } | null = null
  function schedulable(): PeerRecord[] {
    const now = clock.now()
    if (!listed || now - listed.at >= RELATIONSHIP_CHECK_MS || now < listed.at) {
      const peers = deps.listPeers()
      listed = { at: now, peers, ids: new Set(peers.map((p) => p.id)) }
    }
    return listed.peers
  }

  /**
   * Starts every due peer that fits under the cap, in peers.toml order; returns the flights
   * started and when the next peer not in flight is due. One pass: the loop re-plans after
   * every pull, over 2,000 peers.
   */
  function launchDue(): { started: Flight[]; nextDue: number } {
    if (stop.signal.aborted) return { started: [], nextDue: Number.POSITIVE_INFINITY }
    const { start, nextDue } = planStarts(schedulable(), planPeer, MAX_CONCURRENT_PULLS - slotted, clock.now())
    return { started: start.map((p) => launch(p, false)), nextDue }
  }

  /** A forced pull of `peer`: joins one in flight, else waits for a free slot and starts one. */
  async function forced(peer: PeerRecord): Promise<SyncResult> {
    // A peer added by hand since the last read: its next pull must be planned too.
    if (listed && !listed.ids.has(peer.id)) listed = null
    // A held long-poll may sit there for its whole wait: give it up and pull now instead.
    const giveUpLive = async () => {
      const f = flightOf(peer.id)
      if (!f?.live) return false
      f.cut('superseded')
      await f.done
      return true
    }
    await giveUpLive()
    const current = flightOf(peer.id)
    if (current) {
      const joined = await current.done
      // A scheduled pull may have started before what the caller wants pulled: pull again.
      if (!joined.ok || current.forced) return joined
    }
    for (;;) {
      if (stop.signal.aborted) return notPulled(peer.id, 'stopped', 'the pod is shutting down')
      // The loop may have started the next long-poll meanwhile: give that up too.
      if (await giveUpLive()) continue
      const other = flightOf(peer.id)
      if (other) return other.done
      if (slotted < MAX_CONCURRENT_PULLS) return launch(getPeer(peer.id) ?? peer, true).done
      await new Promise<void>((resolve) => slotWaiters.push(resolve))
    }
  }

  async function tick(): Promise<SyncResult[]> {
    listed = null
    const results = await Promise.all(launchDue().started.map((f) => f.done))
    return results.filter((r) => !isSkipReason(r.error))
  }

  async function syncNow(peer?: string): Promise<SyncResult[]> {
    const peers = deps.listPeers().filter((p) => (peer ? p.id === peer : true))
    const results = await Promise.all(peers.map(forced))
    wake.abort() // the schedule changed; let the loop re-plan its sleep
    return results
  }

  function peerChanged(id: string): void {
    listed = null
    const flight = flightOf(id)
    if (flight) {
      const why = whyNot(flight.peer)
      if (why) flight.cut(why)
    } else if (liveWait > 0) {
      // Added, resumed or re-pointed: pull it now (and then hold it live), not at the next interval.
      // (With live pulls off, peers are pulled on the interval and by `sync` alone.)
      const t = tracked.get(id)
      if (!getPeer(id)) tracked.delete(id)
      else if (t) t.state = { ...t.state, dueAt: 0 }
      wake.abort()
    }
  }

  async function run(): Promise<void> {
    while (!stop.signal.aborted) {
      let nextDue = clock.now()
      try {
        nextDue = launchDue().nextDue
      } catch (err) {
        log.error({ op: 'sync', err: 'internal', msg: err instanceof Error ? err.message : String(err) })
      }
      if (stop.signal.aborted) break
      wake = new AbortController()
      await clock.sleep(sleepMs([nextDue], clock.now(), deps.intervalMs()), AbortSignal.any([stop.signal, wake.signal]))
    }
  }

  async function idle(): Promise<void> {
    while (inFlight > 0) await Promise.all([...flights()].map((f) => f.done))
  }

  return {
    start() {
      running ??= run()
    },
    syncNow,
    tick,
    peerChanged,
    diskFull: (id) => tracked.get(id)?.diskFull ?? null,
    idle,
    async close() {
      stop.abort()
      for (const w of slotWaiters) w()
      await running
      await idle()
    },
  }
}

function notPulled(peer: string, error: SkipReason, detail: string): SyncResult {
  return { peer, ok: false, fetched: 0, stored: 0, deleted: 0, dropped: 0, ms: 0, error, detail }
}
