/**
 * Bulk mode, while pulls of many pages run: the store's two kinds of upkeep that a page's commit
 * would otherwise pay for at once are put off until the last such pull ends, then done in small
 * steps in the background (tidyStep, from the background indexer):
 *
 * - FTS5's automerge: every commit writes the page's rows as a segment of their own, and
 *   automerge then merges a little at each commit. Off, the segments only pile up (FTS5's crisis
 *   merge still bounds them at 16 per level), every copy is searchable at once, and one merge
 *   afterwards does the work.
 * - WAL checkpoints: every 1,000 pages of WAL a commit copies the WAL back into pod.db, and the
 *   pages a pull rewrites at every commit (the ends of its indexes) are copied again each time.
 *   In bulk the WAL may grow to BULK_WAL_PAGES before a commit checkpoints it (so even a pull of
 *   millions stays bounded); one checkpoint afterwards copies each page once.
 *
 * Measured on the pull's own work (100k copies, 100 pages, bench/pull-apply.bench.ts): the
 * store's CPU 1.15 -> 1.00 s; the merge afterwards about 0.1 s, in steps of a few ms.
 *
 * automerge is a setting of the FTS5 table, kept in pod.db: a crash in bulk leaves it off, so
 * the store's open puts it back (repairAfterCrash).
 */
import type { StoreContext } from './_context'

/** SQLite's default wal_autocheckpoint, in pages. */
const WAL_AUTOCHECKPOINT_PAGES = 1000
/** The WAL's bound in bulk: 64 MiB of 4 KiB pages. */
const BULK_WAL_PAGES = 16_384
/** FTS5's default automerge. */
const AUTOMERGE_DEFAULT = 4
/** Leaf pages one merge step may write: a few ms of work, so requests get in between steps. */
const MERGE_STEP_PAGES = 64

export interface BulkWrites {
  /** A pull of many pages begins; returns its end (idempotent). Pulls at once share the mode. */
  begin(): () => void
  /** One step of the upkeep put off by bulk mode; false when nothing is left to do. */
  tidyStep(): boolean
}

export function createBulkWrites(ctx: StoreContext): BulkWrites {
  let users = 0
  /** What the last bulk left: FTS5 merges, then one checkpoint. */
  let tidy: 'none' | 'merge' | 'checkpoint' = 'none'

  function end(): void {
    if (--users > 0) return
    setAutomerge(ctx, AUTOMERGE_DEFAULT)
    // The WAL's bound stays until tidyStep's checkpoint: the next write (the pull's own record of
    // how it went) would otherwise copy the whole WAL back before it returns.
    tidy = 'merge'
  }

  return {
    begin() {
      if (users++ === 0) {
        ctx.db.exec(`PRAGMA wal_autocheckpoint = ${BULK_WAL_PAGES}`)
        setAutomerge(ctx, 0)
      }
      let ended = false
      return () => {
        if (ended) return
        ended = true
        end()
      }
    },
    tidyStep() {
      // A new bulk began meanwhile: its own end leaves the upkeep again.
      if (users > 0 || tidy === 'none') return false
      if (tidy === 'merge') {
        // FTS5 tells whether a merge step found work only through the count of changes.
        const changes = () => (ctx.db.query('SELECT total_changes() AS n').get() as { n: number }).n
        const before = changes()
        ctx.write(() => ctx.db.query(`INSERT INTO memories_fts (memories_fts, rank) VALUES ('merge', ${MERGE_STEP_PAGES})`).run(), { durable: false })
        if (changes() - before < 2) tidy = 'checkpoint'
        return true
      }
      ctx.db.exec('PRAGMA wal_checkpoint(PASSIVE)')
      ctx.db.exec(`PRAGMA wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`)
      tidy = 'none'
      return false
    },
  }
}

/** A crash in bulk mode left FTS5's automerge off in pod.db: put it back. */
export function repairAfterCrash(ctx: StoreContext): void {
  const row = ctx.db.query("SELECT v FROM memories_fts_config WHERE k = 'automerge'").get() as { v: number } | null
  if (row?.v === 0) setAutomerge(ctx, AUTOMERGE_DEFAULT)
}

/** FTS5's automerge for memories_fts (0: off), kept in pod.db. */
function setAutomerge(ctx: StoreContext, n: number): void {
  ctx.write(() => ctx.db.query(`INSERT INTO memories_fts (memories_fts, rank) VALUES ('automerge', ${n})`).run(), { durable: false })
}
