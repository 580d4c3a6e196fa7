/**
 * In-process commit notifications: what a write transaction changed, handed to listeners right
 * after it commits (long-poll waiters, the panel, `mazemaker watch`). Not polling: TEMP triggers
 * on this connection copy the gate-relevant columns of every row a write touches (before and
 * after) into a TEMP table, and ctx.write() drains it once the outermost transaction has
 * committed. A rolled-back write leaves nothing (the journal is part of the transaction), and
 * every write path is covered without each one having to remember to report (remember, update,
 * forget, group commit, prefix reconciliation, holds, pulled copies, purge).
 *
 * Pulled copies (rows with an origin_peer) are journalled only while a listener wants them
 * (subscribe(l, { copies: true }): the panel's event stream, `mazemaker watch`). Long-poll
 * waiters need only our own memories, and a 100k pull would otherwise write and read back 100k
 * journal rows nobody reads. The triggers carry `WHEN origin_peer IS NULL` in that mode, so a
 * copy costs no journal row. The mode is switched (triggers dropped and re-created) at the start
 * of the next outermost write, never inside a transaction: a write that begins after
 * subscribe(l, { copies: true }) returned journals its copies for `l`, and writes are synchronous,
 * so no commit can fall between the subscription and the switch.
 *
 * Only labels and flags are journalled, never content: `AES:` is recorded as a flag, so nothing
 * private is held here beyond the labels the store already keeps in memory for the write.
 * Writes by another connection (another process on the same pod.db) are not seen; a held
 * long-poll then still answers when its wait ends.
 */
import type { SqliteDatabase } from '../runtime'
import { isGateEligible } from './gate'
import { VAULT_PREFIX } from './vault'

/** One row a committed write changed. */
export interface CommittedChange {
  op: 'insert' | 'update' | 'delete'
  /** The memory id (for a copy: our local id). */
  id: string
  /** The peer a copy came from; null for our own memories. */
  origin_peer: string | null
  /** Label after the write ('' for a tombstone or a deleted row). */
  label: string
  deleted: boolean
  encrypted: boolean
  /**
   * Set when the write moved the row in the change feed (a peer pulling from us has something
   * to learn): `served` is the label the feed now serves it under (null: it is not served,
   * its tombstone goes out), `was` the label it was served under before (null: not served then).
   * Never set for a row that is not, and was not, gate-eligible: a private, `AES:`, `peer:` or
   * held row produces no feed entry here.
   */
  feed: { served: string | null; was: string | null } | null
}

export type CommitListener = (changes: readonly CommittedChange[]) => void

export interface CommitSubscribeOptions {
  /** Also report pulled copies (origin_peer set). Default false: our own memories only. */
  copies?: boolean
}

export interface CommitJournalStats {
  /** Journal rows written (and drained) since the store opened. */
  rows: number
  /** Whether the triggers journal pulled copies right now. */
  copies: boolean
}

interface JournalRow {
  op: number
  id: string
  origin_peer: string | null
  deleted: number | null
  feed_moved: number
  new_label: string | null
  new_aes: number | null
  new_held: number | null
  new_enc: number | null
  old_label: string | null
  old_aes: number | null
  old_held: number | null
  old_origin: string | null
}

export interface CommitJournal {
  /** Adds a listener (the triggers are installed or widened at the next write); returns its removal. */
  subscribe(listener: CommitListener, opts?: CommitSubscribeOptions): () => void
  /** Called by ctx.write() before its outermost transaction begins: applies the wanted mode. */
  prepare(): void
  /** Called by ctx.write() after its outermost transaction committed. */
  drain(): void
  stats(): CommitJournalStats
}

type Mode = 'off' | 'own' | 'all'

export function createCommitJournal(db: SqliteDatabase, publicPrefixes: readonly string[]): CommitJournal {
  /** Each listener and whether it wants copies. */
  const listeners = new Map<CommitListener, boolean>()
  let copyListeners = 0
  let mode: Mode = 'off'
  let rowsJournaled = 0

  function wanted(): Mode {
    if (listeners.size === 0) return mode === 'off' ? 'off' : 'own' // keep the table: a listener may come back
    return copyListeners > 0 ? 'all' : 'own'
  }

  /** (Re)creates the triggers for `next`; only ever between transactions (see prepare()). */
  function install(next: 'own' | 'all'): void {
    // `held` arrives with secret holds; until the column exists nothing is held.
    const cols = new Set((db.query('PRAGMA table_info(memories)').all() as { name: string }[]).map((c) => c.name))
    const held = (img: 'NEW' | 'OLD') => (cols.has('held') ? `${img}.held` : '0')
    const image = (img: 'NEW' | 'OLD') => `${img}.label, substr(${img}.content, 1, ${VAULT_PREFIX.length}) = '${VAULT_PREFIX}', ${held(img)}, ${img}.encrypted`
    // A copy never becomes our own memory nor the reverse (origin_peer is set once, on insert).
    const own = (img: 'NEW' | 'OLD') => (next === 'all' ? '' : ` AND ${img}.origin_peer IS NULL`)
    db.exec(`
      PRAGMA temp_store = MEMORY;
      CREATE TEMP TABLE IF NOT EXISTS live_journal (
        op INTEGER NOT NULL, id TEXT NOT NULL, origin_peer TEXT, deleted INTEGER, feed_moved INTEGER NOT NULL,
        new_label TEXT, new_aes INTEGER, new_held INTEGER, new_enc INTEGER,
        old_label TEXT, old_aes INTEGER, old_held INTEGER, old_origin TEXT
      );
      DROP TRIGGER IF EXISTS temp.live_journal_insert;
      DROP TRIGGER IF EXISTS temp.live_journal_update;
      DROP TRIGGER IF EXISTS temp.live_journal_delete;
      CREATE TEMP TRIGGER live_journal_insert AFTER INSERT ON main.memories WHEN 1${own('NEW')} BEGIN
        INSERT INTO live_journal VALUES (1, NEW.id, NEW.origin_peer, NEW.deleted, NEW.feed_seq IS NOT NULL,
          ${image('NEW')}, NULL, NULL, NULL, NULL);
      END;
      CREATE TEMP TRIGGER live_journal_update AFTER UPDATE ON main.memories
        WHEN (NEW.seq IS NOT OLD.seq OR NEW.feed_seq IS NOT OLD.feed_seq)${own('OLD')} BEGIN
        INSERT INTO live_journal VALUES (2, NEW.id, NEW.origin_peer, NEW.deleted, NEW.feed_seq IS NOT OLD.feed_seq,
          ${image('NEW')}, OLD.label, substr(OLD.content, 1, ${VAULT_PREFIX.length}) = '${VAULT_PREFIX}', ${held('OLD')}, OLD.origin_peer);
      END;
      CREATE TEMP TRIGGER live_journal_delete AFTER DELETE ON main.memories WHEN 1${own('OLD')} BEGIN
        INSERT INTO live_journal VALUES (3, OLD.id, OLD.origin_peer, 1, 0,
          NULL, NULL, NULL, OLD.encrypted, OLD.label, NULL, NULL, OLD.origin_peer);
      END;
    `)
    mode = next
  }

  const eligible = (label: string | null, aes: number | null, held: number | null, origin: string | null): label is string => {
    if (label === null) return false
    const row = { label, content: aes ? VAULT_PREFIX : '', origin_peer: origin, held: held ?? 0 }
    return isGateEligible(row, publicPrefixes)
  }

  function toChange(r: JournalRow): CommittedChange {
    const deleted = r.op === 3 || r.deleted === 1
    const label = r.op === 3 ? '' : (r.new_label ?? '')
    let feed: CommittedChange['feed'] = null
    if (r.feed_moved) {
      const served = !deleted && eligible(r.new_label, r.new_aes, r.new_held, r.origin_peer) ? r.new_label : null
      const was = r.op === 2 && eligible(r.old_label, r.old_aes, r.old_held, r.old_origin) ? r.old_label : null
      if (served !== null || was !== null) feed = { served, was }
    }
    const op = r.op === 1 ? 'insert' : r.op === 2 ? 'update' : 'delete'
    return { op, id: r.id, origin_peer: r.origin_peer, label, deleted, encrypted: r.new_enc === 1, feed }
  }

  return {
    subscribe(listener, opts = {}) {
      if (listeners.has(listener)) return () => {}
      const copies = opts.copies === true
      listeners.set(listener, copies)
      if (copies) copyListeners++
      return () => {
        if (!listeners.has(listener)) return
        listeners.delete(listener)
        if (copies) copyListeners--
      }
    },
    prepare() {
      const next = wanted()
      // 'off' never follows 'own': once installed, the narrow triggers stay (they cost little).
      // ctx.write() calls this at depth 0, outside any transaction (no store write runs inside
      // a raw db.transaction), so the DDL is never rolled back under us.
      if (next !== mode && next !== 'off') install(next)
    },
    drain() {
      if (mode === 'off') return
      const rows = db.query('SELECT * FROM live_journal ORDER BY rowid').all() as JournalRow[]
      if (rows.length === 0) return
      db.exec('DELETE FROM live_journal')
      rowsJournaled += rows.length
      const changes = rows.map(toChange)
      // Written while copies were wanted, read after the last such listener left: not for the rest.
      const own = changes.some((c) => c.origin_peer !== null) ? changes.filter((c) => c.origin_peer === null) : changes
      for (const [l, copies] of [...listeners]) {
        const mine = copies ? changes : own
        if (mine.length === 0) continue
        // A listener's failure must not fail the write that already committed.
        try {
          l(mine)
        } catch {
          /* listeners report their own errors */
        }
      }
    },
    stats: () => ({ rows: rowsJournaled, copies: mode === 'all' }),
  }
}
