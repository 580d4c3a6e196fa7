/**
 * The pull loop: in the pod's own event loop, every `sync_interval` (with jitter) it pulls from
 * each peer that is due, at most MAX_CONCURRENT_PULLS at once. Each peer has its own schedule:
 * after a success the next pull is one interval away, after a failure it backs off exponentially
 * (capped at the interval). Ticks never overlap; syncNow() runs a forced round at once.
 */
import type { Clock } from '../lib/clock'
import type { Logger } from '../lib/log'
import { PeerError, PodError } from '../lib/errors'
import { shortId, type PairKey, type PeerRecord, type PodId, type PublicKey } from '../identity'
import type { Store } from '../store'
import type { SyncResult } from '../api-types'

export type { SyncResult } from '../api-types'
import { BACKOFF_BASE_MS, MAX_CONCURRENT_PULLS, PENDING_RETRY_MS, SYNC_JITTER_FRACTION } from './constants'
import { pullPeer } from './pull-peer'

export type SyncStore = Pick<Store, 'applyRemote' | 'peerState' | 'resetScope' | 'recordPull'>

/** Results for peers that were not pulled at all (no request was made). */
const SKIPPED = new Set(['revoked', 'paused', 'handshake_pending'])


export interface SyncLoopDeps {
  selfId: PodId
  listPeers(): PeerRecord[]
  pairKey(peerId: PodId, key: PublicKey): Promise<PairKey>
  store: SyncStore
  clock: Clock
  log: Logger
  /** Current interval (pod.toml / env may change between ticks). */
  intervalMs(): number
  /** The URL to pull from now: the peer's direct URL, a rendezvous lookup, or null (pending). */
  resolveUrl(peer: PeerRecord): Promise<string | null>
  fetch?: typeof fetch
  random?: () => number
  /** Called after a pull from `url` verified and stored (lets the locator trust that URL). */
  confirmUrl?(peer: PeerRecord, url: string): void
  /** Observer for metrics. */
  onPulled?(peerId: string, result: SyncResult): void
}

export interface SyncLoop {
  start(): void
  /** Forced round for one peer or all sync-enabled peers; waits for a tick in flight first. */
  syncNow(peer?: string): Promise<SyncResult[]>
  /** One scheduled round: pulls the peers that are due. */
  tick(): Promise<SyncResult[]>
  close(): Promise<void>
}

export function createSyncLoop(deps: SyncLoopDeps): SyncLoop {
  const { clock, log } = deps
  const random = deps.random ?? Math.random
  const dueAt = new Map<string, number>()
  const lastErrorCode = new Map<string, string>()
  const stop = new AbortController()
  let wake = new AbortController()
  let chain: Promise<unknown> = Promise.resolve()
  let running: Promise<void> | null = null

  /** Serialises rounds so ticks never overlap. */
  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = chain.then(fn, fn)
    chain = next.catch(() => undefined)
    return next
  }

  function nextAfterSuccess(now: number): number {
    const interval = deps.intervalMs()
    return now + interval - Math.floor(random() * interval * SYNC_JITTER_FRACTION)
  }

  function nextAfterFailure(now: number, failures: number): number {
    const backoff = Math.min(deps.intervalMs(), BACKOFF_BASE_MS * 2 ** Math.max(0, failures - 1))
    return now + backoff
  }

  async function pullOne(peer: PeerRecord & { key: PublicKey }, baseUrl: string): Promise<SyncResult> {
    const started = performance.now()
    const short = shortId(peer.id)
    try {
      const totals = await pullPeer(
        // Shutdown aborts a pull in flight: the page being stored is one transaction either way.
        { selfId: deps.selfId, store: deps.store, pairKey: deps.pairKey, now: () => clock.now(), fetch: deps.fetch, signal: stop.signal },
        { id: peer.id, key: peer.key, baseUrl, scope: peer.scope },
      )
      const ms = Math.round(performance.now() - started)
      deps.store.recordPull(peer.id, { ok: true, at: new Date(clock.now()).toISOString() })
      deps.confirmUrl?.(peer, baseUrl)
      dueAt.set(peer.id, nextAfterSuccess(clock.now()))
      if (lastErrorCode.has(peer.id)) {
        log.info({ peer: short, op: 'sync', msg: 'peer recovered' })
        lastErrorCode.delete(peer.id)
      }
      // A quiet pull (nothing new) every five minutes per peer would drown the log: debug.
      const level = totals.fetched > 0 || totals.dropped > 0 ? 'info' : 'debug'
      log[level]({ peer: short, op: 'sync', fetched: totals.fetched, stored: totals.stored, deleted: totals.deleted, dropped: totals.dropped || undefined, ms })
      return { peer: peer.id, ok: true, fetched: totals.fetched, stored: totals.stored, deleted: totals.deleted, ms }
    } catch (err) {
      const ms = Math.round(performance.now() - started)
      const code = err instanceof PodError ? err.code : 'internal'
      const detail = err instanceof Error ? err.message : String(err)
      // Cut short by our own shutdown: not the peer's failure, so nothing to record.
      if (stop.signal.aborted) return { peer: peer.id, ok: false, fetched: 0, stored: 0, deleted: 0, ms, error: 'stopped', detail }
      if (!(err instanceof PeerError)) log.error({ peer: short, op: 'sync', err: code, msg: detail })
      deps.store.recordPull(peer.id, { ok: false, error: `${code}: ${detail}` })
      const failures = deps.store.peerState(peer.id).consecutive_failures
      dueAt.set(peer.id, nextAfterFailure(clock.now(), failures))
      // First failure (or a new kind of failure) at warn, identical repeats at debug.
      const level = lastErrorCode.get(peer.id) === code ? 'debug' : 'warn'
      lastErrorCode.set(peer.id, code)
      log[level]({ peer: short, op: 'sync', err: code, detail, failures, ms })
      return { peer: peer.id, ok: false, fetched: 0, stored: 0, deleted: 0, ms, error: code, detail }
    }
  }

  /** Pulls `peers` with at most MAX_CONCURRENT_PULLS in flight. */
  async function pullAll(peers: PeerRecord[]): Promise<SyncResult[]> {
    const results: SyncResult[] = []
    let next = 0
    const worker = async () => {
      while (next < peers.length) {
        const peer = peers[next++]!
        const result = await pullPeerIfReachable(peer)
        results.push(result)
        if (!SKIPPED.has(result.error ?? '')) deps.onPulled?.(peer.id, result)
      }
    }
    await Promise.all(Array.from({ length: Math.min(MAX_CONCURRENT_PULLS, peers.length) }, worker))
    return results
  }

  async function pullPeerIfReachable(peer: PeerRecord): Promise<SyncResult> {
    const skipped = (error: string, detail: string): SyncResult => {
      dueAt.set(peer.id, nextAfterSuccess(clock.now()))
      return { peer: peer.id, ok: false, fetched: 0, stored: 0, deleted: 0, ms: 0, error, detail }
    }
    if (!peer.key) return skipped('revoked', 'no key file for this peer')
    if (!peer.sync) return skipped('paused', 'sync = false for this peer')
    let url: string | null
    try {
      url = await deps.resolveUrl(peer)
    } catch {
      url = null
    }
    // handshake-pending: nothing to pull from yet. A rendezvous peer may register any moment
    // (heartbeats are every minute), so look again after a minute, not a whole interval.
    if (!url) {
      const result = skipped('handshake_pending', 'no URL for this peer yet')
      dueAt.set(peer.id, clock.now() + Math.min(deps.intervalMs(), PENDING_RETRY_MS))
      return result
    }
    return pullOne(peer as PeerRecord & { key: PublicKey }, url)
  }

  function tick(): Promise<SyncResult[]> {
    return exclusive(async () => {
      const now = clock.now()
      const due = deps.listPeers().filter((p) => (dueAt.get(p.id) ?? 0) <= now)
      return (await pullAll(due)).filter((r) => !SKIPPED.has(r.error ?? ''))
    })
  }

  function syncNow(peer?: string): Promise<SyncResult[]> {
    return exclusive(async () => {
      const peers = deps.listPeers().filter((p) => (peer ? p.id === peer : true))
      const results = await pullAll(peers)
      wake.abort() // the schedule changed; let the loop re-plan its sleep
      return results
    })
  }

  function msUntilNextDue(): number {
    const now = clock.now()
    let soonest = now + deps.intervalMs()
    for (const p of deps.listPeers()) soonest = Math.min(soonest, dueAt.get(p.id) ?? now)
    return Math.max(soonest - now, 1000)
  }

  async function run(): Promise<void> {
    while (!stop.signal.aborted) {
      try {
        await tick()
      } catch (err) {
        log.error({ op: 'sync', err: 'internal', msg: err instanceof Error ? err.message : String(err) })
      }
      if (stop.signal.aborted) break
      wake = new AbortController()
      await clock.sleep(msUntilNextDue(), AbortSignal.any([stop.signal, wake.signal]))
    }
  }

  return {
    start() {
      running ??= run()
    },
    syncNow,
    tick,
    async close() {
      stop.abort()
      await running
      await chain
    },
  }
}
