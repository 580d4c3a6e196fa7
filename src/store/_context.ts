/**
 * What the store's modules share: the connection, the vault, the blind index, the clock and a
 * few write helpers (change sequence, full-text rows, immediate transactions). Private to
 * src/store; one context per open store, nothing at module level.
 */
import type { SqliteDatabase } from '../runtime'
import type { Clock } from '../lib/clock'
import { ScopeMatchers } from '../scope'
import { ftsText, type BlindIndex } from './blind-index'
// The pod.toml default, so a store opened without the option behaves like a pod with no setting.
import { DEFAULT_MAX_PEER_BYTES } from '../config'
import { createSecretScanner, type SecretScanner } from './secret-scan'
import type { Memory } from './types'
import type { Vault } from './vault'

/** A memories row as SQLite returns it. */
export interface MemoryRow {
  pk: number
  id: string
  label: string
  content: string
  encrypted: number
  created_at: string
  updated_at: string
  seq: number
  deleted: number
  shared: number
  /** Position in the change feed; set exactly when shared = 1. */
  feed_seq: number | null
  origin_peer: string | null
  origin_id: string | null
  /** 0 clear, 1 held (looked like a credential), 2 not scanned yet; see secret-scan.ts. */
  held: number
  /** 1 once the credential scan read this label and content; 0: never (scan-backfill.ts catches up). */
  scanned: number
}

export interface StoreContext {
  db: SqliteDatabase
  vault: Vault
  blind: BlindIndex
  clock: Clock
  publicPrefixes: readonly string[]
  /** Compiled peer scopes (the pod's, shared with its long-poll registry). */
  scopes: ScopeMatchers
  /** The credential scanner of this store's writes (rules created once, see secret-scan.ts). */
  scanner: SecretScanner
  maxContentBytes: number
  /** Quota of one peer's copies (label + content bytes); see remote-copies.ts. */
  maxPeerBytes: number
  nowIso(): string
  /**
   * Runs `fn` in a BEGIN IMMEDIATE transaction: the write lock is taken up front, so two
   * connections never deadlock upgrading a read to a write (busy_timeout does the waiting).
   * The commit syncs the WAL to disk before write() returns (the connection's synchronous =
   * FULL), so what a caller acknowledges survives a power cut. `{ durable: false }` skips that
   * sync for writes that can be redone (a pulled page is pulled again from its cursor, served-page
   * bookkeeping): the next durable commit syncs them along.
   */
  write<T>(fn: () => T, opts?: { durable?: boolean }): T
  /**
   * A write that may wait: it runs in one transaction with the others queued in the same turn
   * of the event loop (a hub answering 64 woken peers records 64 access-log rows in one commit,
   * not 64), at the end of that turn or before the next write() begins, whichever is first. Only
   * bookkeeping belongs here (what may be lost if it fails: the access log); a failure is
   * reported to onDeferredError, never to an unrelated caller. Readers of it call
   * flushDeferred() first.
   */
  defer(fn: () => void): void
  /** Runs the deferred writes now (before reading what they write). */
  flushDeferred(): void
  /** Where a deferred write that failed at the turn's end is reported (the store's log). */
  onDeferredError: ((err: unknown) => void) | null
  /** Runs before the outermost write() begins (the commit journal switches its triggers here). */
  beforeWrite: (() => void) | null
  /** Runs after the outermost write() committed (the commit journal drains here). */
  afterCommit: (() => void) | null
  /** Reserves `n` change sequence numbers and returns the first. Call inside write(). */
  nextSeq(n?: number): number
  /**
   * Adds the full-text row of memory `pk` (unindex() first when replacing); `plaintext` is blinded
   * when `blind` is set. `blindCache`: blind tokens already computed in this batch, reused and added to.
   */
  index(pk: number, label: string, plaintext: string, blind: boolean, blindCache?: Map<string, string>): void
  unindex(pk: number): void
  /** The row as the API returns it, content decrypted. */
  toMemory(row: MemoryRow): Memory
}

export function createContext(opts: {
  db: SqliteDatabase
  vault: Vault
  blind: BlindIndex
  clock: Clock
  publicPrefixes: readonly string[]
  scopes?: ScopeMatchers
  maxContentBytes: number
  maxPeerBytes?: number
  /** false: no write syncs (the operator's MAZEMAKER_UNSAFE_NO_FSYNC; the database is left at synchronous = NORMAL). */
  durable?: boolean
}): StoreContext {
  const { db, vault, blind, clock } = opts
  const durable = opts.durable ?? true
  let depth = 0
  let deferred: (() => void)[] = []
  let flushScheduled = false
  const runDeferred = () => {
    const fns = deferred
    deferred = []
    try {
      // Bookkeeping: not worth a sync of its own (the next durable commit takes it along).
      ctx.write(
        () => {
          for (const fn of fns) fn()
        },
        { durable: false },
      )
    } catch (err) {
      ctx.onDeferredError?.(err)
    }
  }
  const ctx: StoreContext = {
    ...opts,
    publicPrefixes: [...opts.publicPrefixes],
    scopes: opts.scopes ?? new ScopeMatchers(),
    scanner: createSecretScanner(),
    maxPeerBytes: opts.maxPeerBytes ?? DEFAULT_MAX_PEER_BYTES,
    nowIso: () => new Date(clock.now()).toISOString(),
    write(fn, writeOpts) {
      // Only the outermost write decides: nested ones are savepoints of its transaction.
      const lazy = depth === 0 && durable && writeOpts?.durable === false
      // Deferred writes first, in their own transaction: their order before this one is kept,
      // and a failure of theirs is not the caller's.
      if (depth === 0 && deferred.length > 0) runDeferred()
      if (depth === 0) ctx.beforeWrite?.()
      if (lazy) db.exec('PRAGMA synchronous = NORMAL')
      depth++
      let out
      try {
        out = db.transaction(fn).immediate()
      } finally {
        depth--
        if (lazy) db.exec('PRAGMA synchronous = FULL')
      }
      // Nested writes are savepoints of the outer one: only the outermost commit is final.
      if (depth === 0) ctx.afterCommit?.()
      return out
    },
    defer(fn) {
      deferred.push(fn)
      if (flushScheduled) return
      flushScheduled = true
      setImmediate(() => {
        flushScheduled = false
        if (deferred.length > 0) runDeferred()
      })
    },
    flushDeferred() {
      if (deferred.length > 0 && depth === 0) runDeferred()
    },
    onDeferredError: null,
    beforeWrite: null,
    afterCommit: null,
    nextSeq(n = 1) {
      const row = db.query('UPDATE change_seq SET value = value + ? WHERE one = 1 RETURNING value').get(n) as { value: number }
      return row.value - n + 1
    },
    index(pk, label, plaintext, isBlind, blindCache) {
      // Both columns hold what tokenize() makes of the text (ftsText), so indexing and querying tokenize alike.
      const body = isBlind ? blind.blindText(plaintext, blindCache) : ftsText(plaintext)
      db.query('INSERT INTO memories_fts (rowid, label, body) VALUES (?, ?, ?)').run(pk, ftsText(label), body)
    },
    unindex(pk) {
      db.query('DELETE FROM memories_fts WHERE rowid = ?').run(pk)
    },
    toMemory(row) {
      return {
        id: row.id,
        label: row.label,
        content: row.encrypted ? vault.decrypt(row.id, row.content) : row.content,
        encrypted: row.encrypted === 1,
        created_at: row.created_at,
        updated_at: row.updated_at,
        origin_peer: row.origin_peer,
        held: row.held !== 0,
      }
    },
  }
  return ctx
}
