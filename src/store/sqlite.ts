/**
 * The Store on SQLite: openStore() opens pod.db and wires the store's modules (own memories,
 * recall, change feed, peer copies, peer state) around one connection. Several Store instances,
 * in this process or others, may share the file: every write is an IMMEDIATE transaction.
 */
import { BadInput } from '../lib/errors'
import type { Clock } from '../lib/clock'
import type { Logger } from '../lib/log'
import type { ScopeMatchers } from '../scope'
import { createContext, type StoreContext } from './_context'
import { createBlindIndex } from './blind-index'
import { audience, changesSince } from './change-feed'
import { openDatabase } from './database'
import { fixDbFileModes, formatMode } from './file-modes'
import { createGroupRemember, forget, get, list, remember, update } from './local-memories'
import { importMemories } from './import-memories'
import { peerState, peerStates, recordPull, recordServed } from './peer-state'
import { accessLog, createServedLog, servedScope } from './access-log'
import { heldCount, listHeld, release, settleUnscanned, updateScanned } from './secret-holds'
import { scanBackfill } from './scan-backfill'
import { reconcilePrefixes } from './prefix-change'
import { recall } from './recall'
import { scrubIfPending } from './scrub'
import { hasPending, indexPending } from './copy-index'
import { createBulkWrites, repairAfterCrash } from './bulk-writes'
import { acceptDeletes, applyRemote, copyCounts, countPeerCopies, purgePeer, resetScope } from './remote-copies'
import type { Store, StoreStats } from './types'
import { createVault } from './vault'
import { createCommitJournal } from './commit-journal'
import { reportingDiskFull } from './disk-full'
import { dirname, resolve } from 'node:path'

export interface OpenStoreOptions {
  /** pod.db path (created 0600 if missing), or ':memory:' */
  path: string
  /** 32-byte AES-256-GCM key (vault.key) */
  vaultKey: Uint8Array
  /** Labels starting with one of these are public (plaintext, shareable); all others are vault-encrypted. */
  publicPrefixes: string[]
  maxContentBytes: number
  /** Quota of copies per peer (pod.toml `max_peer_bytes`); default 256 MiB. */
  maxPeerBytes?: number
  clock: Clock
  /**
   * Compiled peer scopes and their memory budget; the pod passes the one its long-poll registry
   * uses too. Default: the store's own.
   */
  scopes?: ScopeMatchers
  /** Where open-time repairs are reported (loose file modes, prefix changes). */
  log?: Logger
  /**
   * Sync the WAL at every commit of a local write before it returns (default true). false is the
   * operator's MAZEMAKER_UNSAFE_NO_FSYNC: a power cut may then drop acknowledged writes.
   */
  durable?: boolean
}

export function openStore(opts: OpenStoreOptions): Store {
  if (!Number.isInteger(opts.maxContentBytes) || opts.maxContentBytes < 1) throw new BadInput('maxContentBytes must be a positive integer')
  // Key checks first, so a bad key never leaves an open database behind.
  const vault = createVault(opts.vaultKey)
  const blind = createBlindIndex(opts.vaultKey)
  for (const f of fixDbFileModes(opts.path)) {
    opts.log?.warn({ op: 'store', path: f.path, msg: `was mode ${formatMode(f.mode)} (readable by others); set to 0600` })
  }
  const db = openDatabase(opts.path, { log: opts.log, durable: opts.durable ?? true })
  const { maxPeerBytes } = opts
  if (maxPeerBytes !== undefined && (!Number.isSafeInteger(maxPeerBytes) || maxPeerBytes < 1)) throw new BadInput('maxPeerBytes must be a positive integer')
  const ctx = createContext({
    db,
    vault,
    blind,
    clock: opts.clock,
    publicPrefixes: opts.publicPrefixes,
    scopes: opts.scopes,
    maxContentBytes: opts.maxContentBytes,
    maxPeerBytes,
    durable: opts.durable,
  })
  try {
    // Startup reconciliation: labels against the prefixes in force, then the scrub of any
    // plaintext that went private (here or, by update, while the last run was up).
    reconcilePrefixes(ctx, { log: opts.log })
    scrubIfPending(ctx, opts.log)
    repairAfterCrash(ctx)
  } catch (err) {
    db.close()
    throw err
  }
  let closed = false
  // After the open-time reconciliation: those writes happen before anyone can listen.
  const journal = createCommitJournal(db, opts.publicPrefixes)
  ctx.beforeWrite = () => journal.prepare()
  ctx.afterCommit = () => journal.drain()
  // Said once per distinct cause: on a full disk every turn's access-log write fails alike.
  let lastDeferredError = ''
  ctx.onDeferredError = (err) => {
    const msg = `an access-log write failed (the pages were served; their log rows are lost): ${err instanceof Error ? err.message : String(err)}`
    if (msg === lastDeferredError) return
    lastDeferredError = msg
    opts.log?.warn({ op: 'store', err: 'deferred_write_failed', msg })
  }
  const rememberGrouped = createGroupRemember(ctx)
  const bulk = createBulkWrites(ctx, opts.path)
  const served = createServedLog(ctx)

  const store: Store = {
    remember: (input, o) => remember(ctx, input, o),
    rememberGrouped,
    importMemories: (inputs, o) => importMemories(ctx, inputs, o),
    update: (id, patch, o) => update(ctx, id, patch, o),
    updateScanned: (id, patch) => updateScanned(ctx, id, patch),
    listHeld: (limit) => listHeld(ctx, limit),
    heldCount: () => heldCount(ctx),
    release: (id) => release(ctx, id),
    settleUnscanned: (signal) => settleUnscanned(ctx, opts.log, signal),
    scanBackfill: (signal) => scanBackfill(ctx, opts.log, signal),
    audience: (ids, scopes) => audience(ctx, ids, scopes),
    get: (id) => get(ctx, id),
    list: (o) => list(ctx, o ?? {}),
    forget: (id) => forget(ctx, id),
    recall: (query, k) => recall(ctx, query, k),
    stats: () => stats(ctx),
    changesSince: (since, scope, limit) => changesSince(ctx, since, scope, limit),
    applyRemote: (peerId, entries, cursor, o) => {
      const applied = applyRemote(ctx, peerId, entries, cursor, o)
      bulk.afterPage()
      return applied
    },
    acceptDeletes: (peerId) => acceptDeletes(ctx, peerId),
    peerState: (peerId) => peerState(ctx, peerId),
    peerStates: () => peerStates(ctx),
    recordPull: (peerId, outcome) => recordPull(ctx, peerId, outcome),
    recordServed: (peerId, count) => recordServed(ctx, peerId, count),
    recordServedPage: (peerId, entries, scope) => served.record(peerId, entries, scope),
    accessLog: (peerId, o) => accessLog(ctx, peerId, o),
    servedScope: (peerId) => servedScope(ctx, peerId),
    resetScope: (peerId, scope) => resetScope(ctx, peerId, scope),
    purgePeer: (peerId) => purgePeer(ctx, peerId),
    countPeerCopies: (peerId) => countPeerCopies(ctx, peerId),
    copyCounts: () => copyCounts(ctx),
    indexPending: (limit) => indexPending(ctx, limit),
    hasPendingIndex: () => hasPending(ctx),
    beginBulk: () => bulk.begin(),
    tidyStep: () => bulk.tidyStep(),
    onCommit: (listener, o) => journal.subscribe(listener, o),
    journalStats: () => journal.stats(),
    checkpoint() {
      db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
    },
    close() {
      if (closed) return
      closed = true
      try {
        ctx.flushDeferred()
        bulk.close()
        db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
        // Cheap, and keeps the planner's statistics current for the next open.
        db.exec('PRAGMA optimize')
      } finally {
        db.close()
      }
    },
  }
  // ':memory:' has no disk to fill.
  return opts.path === ':memory:' ? store : reportingDiskFull(store, dirname(resolve(opts.path)))
}

function stats(ctx: StoreContext): StoreStats {
  const s: StoreStats = { memories: 0, private: 0, public: 0, peer_copies: 0, tombstones: 0, by_peer: {} }
  // One read transaction, so the two counts agree; each reads one covering partial index.
  ctx.db
    .transaction(() => {
      const own = ctx.db
        .query('SELECT deleted, sum(encrypted) AS enc, count(*) AS n FROM memories INDEXED BY memories_own WHERE origin_peer IS NULL GROUP BY deleted')
        .all() as { deleted: number; enc: number; n: number }[]
      for (const g of own) {
        if (g.deleted) {
          s.tombstones += g.n
        } else {
          s.private += g.enc
          s.public += g.n - g.enc
        }
      }
      const copies = ctx.db.query('SELECT origin_peer AS peer, count(*) AS n FROM memories WHERE origin_peer IS NOT NULL GROUP BY origin_peer').all() as {
        peer: string
        n: number
      }[]
      for (const g of copies) {
        s.peer_copies += g.n
        s.by_peer[g.peer] = g.n
      }
    })
    .deferred()
  s.memories = s.public + s.private + s.peer_copies
  return s
}
