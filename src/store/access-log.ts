/**
 * The access log: one row per /peer/sync page we served that carried entries (when, to whom, how
 * many, first and last memory id), so an operator can see what a peer has received. Empty polls
 * are never recorded (the serve path answers thousands a second, almost all empty). Rows live 30
 * days and each peer keeps at most ACCESS_LOG_MAX_ROWS_PER_PEER: a chatty peer pushes out its own
 * oldest entries, never another peer's. Pruning runs on every PRUNE_EVERY_PAGES-th page of a peer
 * (its peer_seq), so a peer holds at most that many rows over its cap.
 *
 * Layout: rows are only ever appended (pk and at_ms grow together). A hub fanning one write out to
 * 2,000 peers writes 2,000 rows; an index by (peer, pk) would put each on that peer's own index
 * page, one page write per row. Instead each row links to the same peer's previous row (prev_pk,
 * the newest in peer_state.last_log_pk, which a purge of the peer's sync state puts back: migration
 * v13), and a peer's log is read by following the links from its newest row. Only each peer's every PRUNE_EVERY_PAGES-th row is indexed (access_log_anchor): the
 * cap prunes back from the anchor at its edge. A link is followed only to a lower pk of the same
 * peer, so a pk that SQLite hands out again after the newest rows were deleted never joins a chain.
 */
import { checkInt } from './schemas'
import type { StoreContext } from './_context'
import type { AccessLogEntry, WireEntry } from './types'

export const ACCESS_LOG_RETENTION_MS = 30 * 24 * 60 * 60 * 1000
/** A peer pulling a page with entries every five minutes for 30 days leaves 8,640 rows. */
export const ACCESS_LOG_MAX_ROWS_PER_PEER = 10_000
/**
 * Prune on one of this many logged pages of a peer, so a busy peer pays for it rarely. Also the
 * anchor index's modulus (migration v12): change both or neither.
 */
const PRUNE_EVERY_PAGES = 256
export const ACCESS_LOG_LIMIT_DEFAULT = 50
export const ACCESS_LOG_LIMIT_MAX = 1000

/**
 * Records a served page: bumps the peer's served_total and appends the log row, deferred
 * (ctx.defer): the pages a hub serves in one turn of the event loop share one transaction (2,000
 * woken spokes cost a few commits, not 2,000). A page with no entries records nothing at all.
 */
export function recordServedPage(
  ctx: StoreContext,
  peerId: string,
  entries: readonly WireEntry[],
  scope: readonly string[],
  opts: { maxRowsPerPeer?: number } = {},
): void {
  if (entries.length === 0) return
  const deleted = entries.reduce((n, e) => n + ('deleted' in e ? 1 : 0), 0)
  const at = ctx.clock.now()
  const scopeJson = JSON.stringify(scope)
  const first = entries[0]!.id
  const last = entries[entries.length - 1]!.id
  const count = entries.length
  ctx.defer(() => {
    // The new row links to the peer's newest one and is its peer_seq-th; then peer_state points at it.
    const peer = ctx.db.query('SELECT last_log_pk, logged_pages FROM peer_state WHERE peer_id = ?').get(peerId) as {
      last_log_pk: number | null
      logged_pages: number
    } | null
    const seq = (peer?.logged_pages ?? 0) + 1
    // run() and its lastInsertRowid: an INSERT … SELECT or RETURNING cost two to three times this (measured).
    const { lastInsertRowid } = ctx.db
      .query('INSERT INTO access_log (at_ms, peer_id, count, deleted, first_id, last_id, prev_pk, peer_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(at, peerId, count, deleted, first, last, peer?.last_log_pk ?? null, seq)
    ctx.db
      .query(
        `INSERT INTO peer_state (peer_id, served_total, served_scope, logged_pages, last_log_pk) VALUES (?, ?, ?, 1, ?)
         ON CONFLICT (peer_id) DO UPDATE SET served_total = served_total + excluded.served_total, served_scope = excluded.served_scope,
           logged_pages = logged_pages + 1, last_log_pk = excluded.last_log_pk`,
      )
      .run(peerId, count, scopeJson, Number(lastInsertRowid))
    if (seq % PRUNE_EVERY_PAGES === 0) prune(ctx, peerId, seq, at, opts.maxRowsPerPeer ?? ACCESS_LOG_MAX_ROWS_PER_PEER)
  })
}

/**
 * Drops `peerId`'s rows beyond its cap (oldest first: every row from the anchor at or below the
 * cap's edge back along its links) and everyone's rows past the retention window. Call inside write().
 */
function prune(ctx: StoreContext, peerId: string, newestSeq: number, nowMs: number, maxRowsPerPeer: number): void {
  const edge = Math.floor((newestSeq - maxRowsPerPeer) / PRUNE_EVERY_PAGES) * PRUNE_EVERY_PAGES
  const anchor =
    edge > 0 ? (ctx.db.query(`SELECT pk FROM access_log WHERE peer_id = ? AND peer_seq = ? AND ${ANCHOR}`).get(peerId, edge) as { pk: number } | null) : null
  if (anchor) {
    ctx.db
      .query(
        `WITH RECURSIVE doomed (pk) AS (
           SELECT ? UNION ALL
           SELECT a.prev_pk FROM access_log a JOIN doomed d ON a.pk = d.pk WHERE a.peer_id = ? AND a.prev_pk < a.pk
         )
         DELETE FROM access_log WHERE pk IN (SELECT pk FROM doomed) AND peer_id = ?`,
      )
      .run(anchor.pk, peerId, peerId)
  }
  ctx.db.query('DELETE FROM access_log WHERE at_ms < ?').run(nowMs - ACCESS_LOG_RETENTION_MS)
}

/** The partial index's condition, written as it is so SQLite uses that index. */
const ANCHOR = `peer_seq % ${PRUNE_EVERY_PAGES} = 0`

interface LogRow {
  pk: number
  at_ms: number
  count: number
  deleted: number
  first_id: string
  last_id: string
  prev_pk: number | null
  peer_id: string
}

/** Newest first; `before` is the cursor of the previous page. Rows past 30 days are never shown. */
export function accessLog(
  ctx: StoreContext,
  peerId: string,
  opts: { limit?: number; before?: number | null } = {},
): { entries: AccessLogEntry[]; cursor: string | null } {
  ctx.flushDeferred()
  const limit = checkInt(opts.limit ?? ACCESS_LOG_LIMIT_DEFAULT, 1, ACCESS_LOG_LIMIT_MAX, 'limit')
  const since = ctx.clock.now() - ACCESS_LOG_RETENTION_MS
  const byPk = ctx.db.query('SELECT pk, at_ms, count, deleted, first_id, last_id, prev_pk, peer_id FROM access_log WHERE pk = ?')
  /** The peer's row `pk` if it is one and inside the window (older links are older rows). */
  const own = (pk: number | null, below: number): LogRow | null => {
    if (pk === null || pk >= below) return null
    const row = byPk.get(pk) as LogRow | null
    return row && row.peer_id === peerId && row.at_ms >= since ? row : null
  }
  const newest = (ctx.db.query('SELECT last_log_pk FROM peer_state WHERE peer_id = ?').get(peerId) as { last_log_pk: number | null } | null)?.last_log_pk
  let row = own(newest ?? null, Number.MAX_SAFE_INTEGER)
  const before = opts.before ?? null
  if (before !== null) {
    // A cursor we returned is the peer's row: the page goes on from its link. Anything else is
    // read as "older than this pk", from the newest row down.
    const cursor = own(before, Number.MAX_SAFE_INTEGER)
    if (cursor) row = own(cursor.prev_pk, cursor.pk)
    else while (row && row.pk >= before) row = own(row.prev_pk, row.pk)
  }
  const rows: LogRow[] = []
  while (row && rows.length <= limit) {
    rows.push(row)
    row = own(row.prev_pk, row.pk)
  }
  const more = rows.length > limit
  if (more) rows.pop()
  return {
    entries: rows.map((r) => ({
      at: new Date(r.at_ms).toISOString(),
      count: r.count,
      deleted: r.deleted,
      first_id: r.first_id,
      last_id: r.last_id,
    })),
    cursor: more ? String(rows[rows.length - 1]!.pk) : null,
  }
}

/** The scope `peerId` last asked with when it received something; null if it never did. */
export function servedScope(ctx: StoreContext, peerId: string): string[] | null {
  ctx.flushDeferred()
  const row = ctx.db.query('SELECT served_scope FROM peer_state WHERE peer_id = ?').get(peerId) as { served_scope: string | null } | null
  if (!row?.served_scope) return null
  const parsed: unknown = JSON.parse(row.served_scope)
  return Array.isArray(parsed) && parsed.every((g) => typeof g === 'string') ? parsed : null
}
