/**
 * Full-text rows for pulled copies, written after their page. applyRemote only queues a copy in
 * fts_pending, so a page lands at close to wire speed; indexPending() writes the rows in
 * batches, and recall() drains whatever is left first, so a search never misses a copy. A crash
 * loses nothing: the queue is in the same database and is drained on the next run.
 */
import type { StoreContext } from './_context'
import { copyLabel } from './gate'

/** Rows per transaction: about 25 ms of work, short enough to keep the event loop responsive. */
export const INDEX_BATCH_ROWS = 1000

/** Writes the full-text rows of up to `limit` queued copies; returns how many it wrote. */
export function indexPending(ctx: StoreContext, limit = INDEX_BATCH_ROWS): number {
  return ctx.write(() => {
    const rows = ctx.db
      .query(
        `SELECT m.pk, m.label, m.content, m.origin_peer FROM fts_pending AS p JOIN memories AS m ON m.pk = p.pk
         ORDER BY p.pk LIMIT ?`,
      )
      .all(limit) as { pk: number; label: string; content: string; origin_peer: string }[]
    if (rows.length === 0) {
      ctx.db.exec('DELETE FROM fts_pending') // only orphans could be left; the delete trigger normally takes them
      return 0
    }
    // The full-text row indexes the origin label: `peer` and the peer id's fragments would only
    // bloat the index (recall names the peer anyway).
    for (const r of rows) ctx.index(r.pk, r.label.slice(copyLabel(r.origin_peer, '').length), r.content, false)
    ctx.db.query('DELETE FROM fts_pending WHERE pk <= ?').run(rows[rows.length - 1]!.pk)
    return rows.length
  })
}

export function hasPending(ctx: StoreContext): boolean {
  return ctx.db.query('SELECT 1 FROM fts_pending LIMIT 1').get() !== null
}

/** Drains the whole queue (recall calls this so a search never misses a copy). */
export function indexAllPending(ctx: StoreContext): void {
  while (hasPending(ctx) && indexPending(ctx) > 0);
}
