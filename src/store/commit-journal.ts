/**
 * In-process commit notifications: what a write transaction changed, handed to listeners right
 * after it commits (long-poll waiters, the panel, `mazemaker watch`). Not polling: TEMP triggers
 * on this connection copy the gate-relevant columns of every row a write touches (before and
 * after) into a TEMP table, and ctx.write() drains it once the outermost transaction has
 * committed. A rolled-back write leaves nothing (the journal is part of the transaction), and
 * every write path is covered without each one having to remember to report (remember, update,
 * forget, group commit, prefix reconciliation, holds, pulled copies, purge).
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
  /** Adds a listener (installs the triggers on first use); returns its removal. */
  subscribe(listener: CommitListener): () => void
  /** Called by ctx.write() after its outermost transaction committed. */
  drain(): void
}

export function createCommitJournal(db: SqliteDatabase, publicPrefixes: readonly string[]): CommitJournal {
  const listeners = new Set<CommitListener>()
  let installed = false

  function install(): void {
    if (installed) return
    // `held` arrives with secret holds; until the column exists nothing is held.
    const cols = new Set((db.query('PRAGMA table_info(memories)').all() as { name: string }[]).map((c) => c.name))
    const held = (img: 'NEW' | 'OLD') => (cols.has('held') ? `${img}.held` : '0')
    const image = (img: 'NEW' | 'OLD') => `${img}.label, substr(${img}.content, 1, ${VAULT_PREFIX.length}) = '${VAULT_PREFIX}', ${held(img)}, ${img}.encrypted`
    db.exec(`
      PRAGMA temp_store = MEMORY;
      CREATE TEMP TABLE IF NOT EXISTS live_journal (
        op INTEGER NOT NULL, id TEXT NOT NULL, origin_peer TEXT, deleted INTEGER, feed_moved INTEGER NOT NULL,
        new_label TEXT, new_aes INTEGER, new_held INTEGER, new_enc INTEGER,
        old_label TEXT, old_aes INTEGER, old_held INTEGER, old_origin TEXT
      );
      CREATE TEMP TRIGGER IF NOT EXISTS live_journal_insert AFTER INSERT ON main.memories BEGIN
        INSERT INTO live_journal VALUES (1, NEW.id, NEW.origin_peer, NEW.deleted, NEW.feed_seq IS NOT NULL,
          ${image('NEW')}, NULL, NULL, NULL, NULL);
      END;
      CREATE TEMP TRIGGER IF NOT EXISTS live_journal_update AFTER UPDATE ON main.memories
        WHEN NEW.seq IS NOT OLD.seq OR NEW.feed_seq IS NOT OLD.feed_seq BEGIN
        INSERT INTO live_journal VALUES (2, NEW.id, NEW.origin_peer, NEW.deleted, NEW.feed_seq IS NOT OLD.feed_seq,
          ${image('NEW')}, OLD.label, substr(OLD.content, 1, ${VAULT_PREFIX.length}) = '${VAULT_PREFIX}', ${held('OLD')}, OLD.origin_peer);
      END;
      CREATE TEMP TRIGGER IF NOT EXISTS live_journal_delete AFTER DELETE ON main.memories BEGIN
        INSERT INTO live_journal VALUES (3, OLD.id, OLD.origin_peer, 1, 0,
          NULL, NULL, NULL, OLD.encrypted, OLD.label, NULL, NULL, OLD.origin_peer);
      END;
    `)
    installed = true
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
    subscribe(listener) {
      install()
      listeners.add(listener)
      return () => void listeners.delete(listener)
    },
    drain() {
      if (!installed) return
      const rows = db.query('SELECT * FROM live_journal ORDER BY rowid').all() as JournalRow[]
      if (rows.length === 0) return
      db.exec('DELETE FROM live_journal')
      const changes = rows.map(toChange)
      for (const l of listeners) {
        // A listener's failure must not fail the write that already committed.
        try {
          l(changes)
        } catch {
          /* listeners report their own errors */
        }
      }
    },
  }
}
