/**
 * Full-text rows for pulled copies. applyRemote writes a page's rows in the page's own
 * transaction, all together after the page's other writes (indexCopies): FTS5 keeps rows in
 * memory until the transaction ends, but writes them out as a segment of their own whenever
 * another write statement starts in between, so one row after each copy's insert made a segment
 * per copy and merge work to match (a pull took about twice the CPU); batched, a page is one
 * segment, and a stored copy is searchable at once.
 *
 * fts_pending is the queue older versions kept (a page queued its copies, a background step
 * indexed them): what such a version left behind is drained by indexPending() in the
 * background and by recall() before it searches, so no search misses a copy.
 */
import type { StoreContext } from './_context'
import { copyLabel } from './gate'
import { indexedAsIs } from './blind-index'

/** Where a copy's origin label starts in its stored label `peer:<id>:<label>`, as SQL's 1-based substr() counts. */
const ORIGIN_LABEL_AT = `length(origin_peer) + ${copyLabel('', '').length + 1}`

/** Rows per transaction: about 25 ms of work, short enough to keep the event loop responsive. */
export const INDEX_BATCH_ROWS = 1000

/** A copy stored in the current transaction: its pk, its label at its origin and its content. */
export interface CopyText {
  pk: number
  label: string
  content: string
  /** indexedAsIs(label) && indexedAsIs(content), where the caller already knows it. */
  asIs?: boolean
}

/**
 * Writes the full-text rows of copies stored in the current write. Call once, after the
 * transaction's other writes to memories. The row indexes the origin label: `peer` and the peer
 * id's fragments would only bloat the index (recall names the peer anyway).
 */
export function indexCopies(ctx: StoreContext, copies: readonly CopyText[]): void {
  const asIs: number[] = []
  for (const c of copies) {
    if (c.asIs ?? (indexedAsIs(c.label) && indexedAsIs(c.content))) asIs.push(c.pk)
    else ctx.index(c.pk, c.label, c.content, false)
  }
  // ASCII copies (most) are indexed from their rows, a statement per run of consecutive pks
  // (a page's new copies are one run): the row's label without its `peer:<id>:` prefix, its content.
  asIs.sort((a, b) => a - b)
  const fromRows = ctx.db.query(
    `INSERT INTO memories_fts (rowid, label, body)
     SELECT pk, substr(label, ${ORIGIN_LABEL_AT}), content FROM memories WHERE pk BETWEEN ? AND ?`,
  )
  for (let i = 0; i < asIs.length; ) {
    let j = i
    while (j + 1 < asIs.length && asIs[j + 1] === asIs[j]! + 1) j++
    fromRows.run(asIs[i]!, asIs[j]!)
    i = j + 1
  }
}

/**
 * The next queued copies, the queue read first (CROSS JOIN fixes that order). Left to choose, on
 * a pod whose statistics know memories but not the queue (an empty table gets no sqlite_stat1
 * row), SQLite walked every memory, looked each up in the queue and sorted the hits: 35 ms a call
 * on 250k memories with nothing queued, and the background indexer calls this after every pull
 * that stored a copy.
 */
export const PENDING_BATCH = `SELECT m.pk, m.label, m.content, m.origin_peer FROM fts_pending AS p CROSS JOIN memories AS m ON m.pk = p.pk
  ORDER BY p.pk LIMIT ?`

/** Writes the full-text rows of up to `limit` queued copies; returns how many it wrote. */
export function indexPending(ctx: StoreContext, limit = INDEX_BATCH_ROWS): number {
  // Lost to a power cut, the queue is still there (or the copies are pulled again): no sync.
  return ctx.write(
    () => {
      const rows = ctx.db.query(PENDING_BATCH).all(limit) as { pk: number; label: string; content: string; origin_peer: string }[]
      if (rows.length === 0) {
        ctx.db.exec('DELETE FROM fts_pending') // only orphans could be left; the delete trigger normally takes them
        return 0
      }
      indexCopies(
        ctx,
        rows.map((r) => ({ pk: r.pk, label: r.label.slice(copyLabel(r.origin_peer, '').length), content: r.content })),
      )
      ctx.db.query('DELETE FROM fts_pending WHERE pk <= ?').run(rows[rows.length - 1]!.pk)
      return rows.length
    },
    { durable: false },
  )
}

export function hasPending(ctx: StoreContext): boolean {
  return ctx.db.query('SELECT 1 FROM fts_pending LIMIT 1').get() !== null
}

/** Drains the whole queue (recall calls this so a search never misses a copy). */
export function indexAllPending(ctx: StoreContext): void {
  while (hasPending(ctx) && indexPending(ctx) > 0);
}
