/**
 * The access log: one row per /peer/sync page we served that carried entries (when, to whom, how
 * many, first and last memory id), so an operator can see what a peer has received. Empty polls
 * are never recorded (the serve path answers thousands a second, almost all empty). Rows live 30
 * days and each peer keeps at most ACCESS_LOG_MAX_ROWS_PER_PEER: a chatty peer pushes out its own
 * oldest entries, never another peer's. Pruning runs on every PRUNE_EVERY_PAGES-th page of a peer
 * (counted in peer_state.logged_pages), so a peer holds at most that many rows over its cap.
 */
import { checkInt } from './schemas'
import type { StoreContext } from './_context'
import type { AccessLogEntry, WireEntry } from './types'

export const ACCESS_LOG_RETENTION_MS = 30 * 24 * 60 * 60 * 1000
/** A peer pulling a page with entries every five minutes for 30 days leaves 8,640 rows. */
export const ACCESS_LOG_MAX_ROWS_PER_PEER = 10_000
/** Prune on one of this many logged pages of a peer, so a busy peer pays for it rarely. */
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
    const { logged_pages: pages } = ctx.db
      .query(
        `INSERT INTO peer_state (peer_id, served_total, served_scope, logged_pages) VALUES (?, ?, ?, 1)
         ON CONFLICT (peer_id) DO UPDATE SET served_total = served_total + excluded.served_total, served_scope = excluded.served_scope,
           logged_pages = logged_pages + 1
         RETURNING logged_pages`,
      )
      .get(peerId, count, scopeJson) as { logged_pages: number }
    ctx.db
      .query('INSERT INTO access_log (at_ms, peer_id, count, deleted, first_id, last_id) VALUES (?, ?, ?, ?, ?, ?)')
      .run(at, peerId, count, deleted, first, last)
    if (pages % PRUNE_EVERY_PAGES === 0) prune(ctx, peerId, at, opts.maxRowsPerPeer ?? ACCESS_LOG_MAX_ROWS_PER_PEER)
  })
}

/** Drops `peerId`'s rows beyond its cap (oldest first) and everyone's rows past the retention window. Call inside write(). */
function prune(ctx: StoreContext, peerId: string, nowMs: number, maxRowsPerPeer: number): void {
  const edge = ctx.db.query('SELECT pk FROM access_log WHERE peer_id = ? ORDER BY pk DESC LIMIT 1 OFFSET ?').get(peerId, maxRowsPerPeer) as {
    pk: number
  } | null
  if (edge) ctx.db.query('DELETE FROM access_log WHERE peer_id = ? AND pk <= ?').run(peerId, edge.pk)
  ctx.db.query('DELETE FROM access_log WHERE at_ms < ?').run(nowMs - ACCESS_LOG_RETENTION_MS)
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
  const rows = ctx.db
    .query(
      `SELECT pk, at_ms, count, deleted, first_id, last_id FROM access_log
       WHERE peer_id = ? AND pk < ? AND at_ms >= ? ORDER BY pk DESC LIMIT ?`,
    )
    .all(peerId, opts.before ?? Number.MAX_SAFE_INTEGER, since, limit + 1) as {
    pk: number
    at_ms: number
    count: number
    deleted: number
    first_id: string
    last_id: string
  }[]
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
