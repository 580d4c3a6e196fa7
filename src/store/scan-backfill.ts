/**
 * The one-time credential scan of memories that no scan has read: public memories written before
 * the scanner existed (or before it read labels), or by a path that does not scan (the sync
 * remember). Each such row has `scanned = 0`; the write paths that scan set it to 1. Runs in the
 * background after open, a batch at a time, and holds what looks like a credential exactly as a
 * scanning write would (peers that received it get its tombstone). Progress goes to the log
 * (count, rate, time left, a line every 10 s) and `mazemaker doctor` reads how many are left.
 *
 * A memory the operator released before this scan existed is indistinguishable from one never
 * scanned: it is held again once, and the final log line says how to release it.
 */
import { createProgress } from '../lib/progress'
import { BACKGROUND_TURN_MS, turnEvery } from '../lib/next-turn'
import type { Logger } from '../lib/log'
import type { SqliteDatabase } from '../runtime'
import type { MemoryRow, StoreContext } from './_context'
import { isGateEligible } from './gate'

const BATCH = 100
/** The rows the backfill reads; the same terms as the partial index memories_unscanned. */
const UNSCANNED = 'scanned = 0 AND held = 0 AND origin_peer IS NULL AND deleted = 0 AND encrypted = 0'

/**
 * The next batch after a pk. Named index: left to choose, SQLite's planner takes memories_own
 * (deleted = 0) and sorts every own memory for each batch of 100, so a backfill of 100k memories
 * cost 50 s of CPU (0.27 ms a batch through memories_unscanned, 69 ms without).
 */
export const UNSCANNED_PAGE = `SELECT * FROM memories INDEXED BY memories_unscanned WHERE ${UNSCANNED} AND pk > ? ORDER BY pk LIMIT ${BATCH}`

/** How many memories still wait for their first credential scan (doctor reads this read-only). */
export function unscannedCount(db: SqliteDatabase): number {
  return (db.query(`SELECT count(*) AS n FROM memories INDEXED BY memories_unscanned WHERE ${UNSCANNED}`).get() as { n: number }).n
}

/**
 * Scans every memory not scanned yet, oldest first, until none is left or `signal` aborts
 * (the store is closing; the rest is scanned at the next start). Returns what it did.
 */
export async function scanBackfill(ctx: StoreContext, log?: Logger, signal?: AbortSignal): Promise<{ scanned: number; held: number }> {
  const out = { scanned: 0, held: 0 }
  const total = unscannedCount(ctx.db)
  if (total === 0) return out
  log?.info({ op: 'secret_scan', count: total, msg: 'scanning memories that no credential scan has read yet (once, in the background)' })
  const progress = createProgress({ what: 'secret_scan', unit: 'memories', total, log, now: () => ctx.clock.now() })
  const page = ctx.db.query(UNSCANNED_PAGE)
  const letRequestsIn = turnEvery(BACKGROUND_TURN_MS, () => ctx.clock.now())
  let after = 0
  while (!signal?.aborted) {
    const rows = page.all(after) as MemoryRow[]
    if (rows.length === 0) break
    const verdicts: { row: MemoryRow; held: boolean }[] = []
    for (const row of rows) {
      verdicts.push({ row, held: (await ctx.scanner.scanMemory(row.label, row.content)).length > 0 })
      if (signal?.aborted) return out // the store is closing
      progress.add(1)
    }
    ctx.write(() => {
      const current = ctx.db.query('SELECT * FROM memories WHERE pk = ?')
      for (const v of verdicts) {
        // An edit in between wrote (and scanned, or marked unscanned) other text: not ours to judge.
        const row = current.get(v.row.pk) as MemoryRow | null
        if (row?.scanned !== 0 || row.held !== 0 || row.label !== v.row.label || row.content !== v.row.content) continue
        if (v.held) {
          hold(ctx, row)
          out.held++
        } else ctx.db.query('UPDATE memories SET scanned = 1 WHERE pk = ?').run(row.pk)
      }
    })
    out.scanned += rows.length
    after = rows[rows.length - 1]!.pk
    await letRequestsIn() // the scanner answers in microtasks: without this the pod answers nothing until the end
  }
  progress.finish()
  if (!signal?.aborted) {
    log?.info({ op: 'secret_scan', count: out.scanned, held: out.held, msg: 'every memory has been scanned for credentials' })
    if (out.held > 0)
      log?.warn({
        op: 'secret_scan',
        count: out.held,
        msg: 'memories written before the credential scan look like credentials; held back from peers (see: mazemaker memory held; release one you meant to share)',
      })
  }
  return out
}

/** held = 1; a memory peers were receiving gets a new feed position, so its tombstone goes out. Call inside write(). */
function hold(ctx: StoreContext, row: MemoryRow): void {
  const served = isGateEligible(row, ctx.publicPrefixes)
  ctx.db.query('UPDATE memories SET held = 1, scanned = 1, feed_seq = ? WHERE pk = ?').run(served ? ctx.nextSeq() : row.feed_seq, row.pk)
}
