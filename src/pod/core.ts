/**
 * openPodCore opens what every process working on a home's data opens the same way: the home
 * (config, identity, peers, headers), the store with pod.toml's limits and the pod's logger,
 * the background indexer, the peer locator and the peers overview. `serve` (startPod) adds the
 * HTTP app, the sync loop and the heartbeat; the stdio MCP server without a running pod
 * (local-mcp.ts) uses the core alone.
 */
import type { PeersOverview, PeerView } from '../api/types'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { lockHome, openHome, shortId, type PeerRecord, type PodHome, type PodId } from '../identity'
import { loadPodConfig } from '../config'
import { systemClock, type Clock } from '../lib/clock'
import { createLogger, type Logger } from '../lib/log'
import { ScopeMatchers } from '../scope'
import { openStore, startBackgroundIndexer, type BackgroundIndexer, type Store } from '../store'
import { peerHint } from '../sync/peer-hints'
import { peerStatusHint, peerStatusNow, peersOverview, peerView, readForAll, summarize, type OverviewContext, type RendezvousUse } from '../sync/peer-overview'
import { createPeerLocator, type PeerLocator } from '../sync/peer-locator'

export interface PodCoreOptions {
  home: string
  clock?: Clock
  log?: Logger
  /**
   * Hold the home's lock (serve). The stdio MCP server does not: the store is safe to share
   * with a pod that starts meanwhile (every write is an IMMEDIATE transaction), and holding the
   * lock would keep `mazemaker serve` from starting.
   */
  lock: boolean
  fetch?: typeof fetch
  /** Sync local writes before they are acknowledged (default true); false: MAZEMAKER_UNSAFE_NO_FSYNC. */
  durable?: boolean
}

export interface PodCore {
  home: PodHome
  /** The pod's logger: every line carries `pod=<short id>`. */
  log: Logger
  clock: Clock
  store: Store
  /** Compiled peer scopes, one budget for the feed and the held long-polls. */
  scopes: ScopeMatchers
  indexer: BackgroundIndexer
  locator: PeerLocator
  /** Peers with status, sync state and copy counts (no unknown callers: only a serving pod sees those). */
  /** `diskFull(id)`: the sync loop's word on a peer whose last pull a full disk refused (serve wires it). */
  peersOverview(diskFull?: (id: PodId) => string | null): PeersOverview
  /** These peers alone, as the overview shows them (null: not a peer now), and the peers.toml problem, if any. */
  peerViews(ids: Iterable<string>, diskFull?: (id: PodId) => string | null): { views: Map<string, PeerView | null>; error: string | null }
  /** One peer's status and hint as its view shows them, no copies counted (null: not a peer now). */
  peerStatusHint(id: string, diskFull?: (id: PodId) => string | null): Pick<PeerView, 'status' | 'hint'> | null
  /** The overview's summary line alone: statuses only (no copies counted, no hints, no sort). */
  peersSummary(diskFull?: (id: PodId) => string | null): string
  /** Why a peer has no URL to pull from and what to do (the hint a handshake-pending peer shows). */
  pendingHint(peer: PeerRecord): string | null
  /**
   * Indexer (awaiting the batch in flight), store, lock: the reverse of opening. `beforeUnlock`
   * runs with the store closed and the lock still held (a failed first boot removes its home).
   */
  close(beforeUnlock?: () => void): Promise<void>
}

export async function openPodCore(opts: PodCoreOptions): Promise<PodCore> {
  const clock = opts.clock ?? systemClock
  const baseLog = opts.log ?? createLogger()
  const home = await openHome(opts.home, { log: baseLog })
  const { config, identity, peers, paths } = home
  const log = baseLog.with({ pod: shortId(identity.podId) })
  const lock = opts.lock ? lockHome(paths) : null
  if (opts.durable === false)
    log.warn({ op: 'store', msg: 'MAZEMAKER_UNSAFE_NO_FSYNC: writes are acknowledged before they reach the disk; a power cut may lose the last ones' })
  const scopes = new ScopeMatchers()
  let store: Store
  try {
    store = openStore({
      path: paths.db,
      vaultKey: identity.vaultKey,
      publicPrefixes: config.public_prefixes,
      maxContentBytes: config.max_content_bytes,
      maxPeerBytes: config.max_peer_bytes,
      clock,
      log,
      scopes,
      durable: opts.durable,
    })
  } catch (err) {
    lock?.release()
    throw err
  }
  const indexer = startBackgroundIndexer(store, log)
  const locator = createPeerLocator({ rendezvous: config.rendezvous, clock, log, fetch: opts.fetch })
  // pod.toml is read at start: a rendezvous joined since is there on disk, not in use here.
  const rendezvousUse = (): RendezvousUse => (config.rendezvous ? 'active' : rendezvousOnDisk(paths.podToml) ? 'restart' : 'none')
  const overviewContext = (headerNames: (id: PodId) => string[], diskFull?: (id: PodId) => string | null): OverviewContext => ({
    reachableUrl: (p) => locator.reachable(p),
    rendezvous: rendezvousUse,
    lookupMiss: (p) => locator.lookupMiss(p),
    headerNames,
    diskFull,
  })
  return {
    home,
    log,
    clock,
    store,
    scopes,
    indexer,
    locator,
    peersOverview(diskFull) {
      const { peers: records, error } = peers.list()
      return peersOverview(records, store, error, overviewContext(headerNamesNow(home), diskFull))
    },
    peerViews(ids, diskFull) {
      const ctx = overviewContext((id) => headerNamesOf(home, id), diskFull)
      const views = new Map<string, PeerView | null>()
      for (const id of ids) {
        const record = peers.get(id)
        views.set(id, record ? peerView(record, store, ctx) : null)
      }
      return { views, error: peers.listError() }
    },
    peerStatusHint(id, diskFull) {
      const record = peers.get(id)
      const ctx = overviewContext(() => [], diskFull)
      return record ? peerStatusHint(record, store, ctx) : null
    },
    peersSummary(diskFull) {
      const ctx = overviewContext(() => [], diskFull)
      const read = readForAll(store)
      return summarize(peers.list().peers.map((p) => ({ status: peerStatusNow(p, read, ctx) })))
    },
    pendingHint: (peer) =>
      peerHint({ status: 'handshake-pending', peer, lastError: null, lastSyncAt: null, rendezvous: rendezvousUse, lookupMiss: locator.lookupMiss(peer) }),
    async close(beforeUnlock) {
      try {
        await indexer.close()
      } finally {
        try {
          store.close()
          beforeUnlock?.()
        } finally {
          lock?.release()
        }
      }
    },
  }
}

/**
 * Names of each peer's secret headers, for one overview: one directory read, then only the peers
 * that have a file are read (a hub's 2,000 peers cost no 2,000 stats).
 */
function headerNamesNow(home: PodHome): (id: PodId) => string[] {
  let files: ReadonlySet<string>
  try {
    files = new Set(readdirSync(home.paths.peerHeadersDir))
  } catch {
    files = new Set()
  }
  return (id) => (files.has(`${id}.toml`) ? headerNamesIn(home, id) : [])
}

/** Names of one peer's secret headers (one stat when it has none). */
function headerNamesOf(home: PodHome, id: PodId): string[] {
  return existsSync(join(home.paths.peerHeadersDir, `${id}.toml`)) ? headerNamesIn(home, id) : []
}

/** The names in a peer's header file. A file the sync loop would refuse (mode, syntax) shows none here; its pull says why. */
function headerNamesIn(home: PodHome, id: PodId): string[] {
  try {
    return Object.keys(home.headers.get(id))
  } catch {
    return []
  }
}

/** Whether pod.toml on disk now names a rendezvous (false when it cannot be read: the pod keeps its own copy). */
function rendezvousOnDisk(path: string): boolean {
  try {
    return loadPodConfig(path).rendezvous !== null
  } catch {
    return false
  }
}
