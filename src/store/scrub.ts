/**
 * Scrubbing old plaintext off the disk after memories went private (prefix removed, or re-labelled
 * by update). PRAGMA secure_delete zeroes what SQLite frees from now on, but three places can
 * still hold the old words: full-text segments (a contentless FTS5 delete only marks the entry),
 * pages freed before secure_delete was on, and WAL frames. So: an FTS 'optimize' (rewrites the
 * index without the deleted entries), VACUUM (rewrites the file from live rows only) and a
 * TRUNCATE checkpoint (empties the WAL). Slow on a big store, so it runs at open, only when a
 * `scrub_pending` mark says something went private since the last scrub; the mark is written in
 * the same transaction as the change, so a crash before the scrub is finished by the next open.
 */
import type { Logger } from '../lib/log'
import type { StoreContext } from './_context'

const SCRUB_META_KEY = 'scrub_pending'

/** Notes that plaintext went private; call inside the write transaction that did it. */
export function markScrubPending(ctx: StoreContext): void {
  ctx.db.query("INSERT INTO meta (key, value) VALUES (?, '1') ON CONFLICT (key) DO NOTHING").run(SCRUB_META_KEY)
}

export function scrubPending(ctx: StoreContext): boolean {
  return ctx.db.query('SELECT 1 FROM meta WHERE key = ?').get(SCRUB_META_KEY) !== null
}

/**
 * Runs the scrub if one is pending. Returns false when another connection kept it from finishing
 * (the mark stays; the next open tries again).
 */
export function scrubIfPending(ctx: StoreContext, log?: Logger): boolean {
  if (!scrubPending(ctx)) return true
  const started = performance.now()
  ctx.write(() => {
    ctx.db.exec("INSERT INTO memories_fts (memories_fts) VALUES ('optimize')")
  })
  try {
    ctx.db.exec('VACUUM')
  } catch (err) {
    log?.warn({ op: 'scrub', err: 'busy', msg: `VACUUM failed (${(err as Error).message}); old plaintext may stay in free pages until the next start` })
    return false
  }
  if (!truncateWal(ctx)) {
    log?.warn({ op: 'scrub', err: 'busy', msg: 'another connection kept the WAL from being emptied; the scrub is retried at the next start' })
    return false
  }
  ctx.write(() => {
    ctx.db.query('DELETE FROM meta WHERE key = ?').run(SCRUB_META_KEY)
  })
  truncateWal(ctx) // the mark's own removal: no memory content, but leave the WAL empty
  log?.info({ op: 'scrub', ms: Math.round(performance.now() - started), msg: 'old plaintext of memories made private removed from pod.db and its WAL' })
  return true
}

/** PRAGMA wal_checkpoint(TRUNCATE); true when the whole WAL was copied back and truncated. */
function truncateWal(ctx: StoreContext): boolean {
  const r = ctx.db.query('PRAGMA wal_checkpoint(TRUNCATE)').get() as { busy: number; log: number; checkpointed: number } | null
  return r === null || (r.busy === 0 && r.log === r.checkpointed)
}
