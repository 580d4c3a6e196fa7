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
import { runsOf, valuesOf } from './multi-row'
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

/** A served page waiting for the turn's write. */
interface ServedRow {
  peerId: string
  at: number
  count: number
  deleted: number
  first: string
  last: string
  scopeJson: string
}

export interface ServedLog {
  /**
   * Records a served page: bumps the peer's served_total and appends the log row, deferred
   * (ctx.defer): the pages a hub serves in one turn of the event loop are written together, in
   * one transaction and a few statements (2,000 woken spokes cost a few multi-row INSERTs, not
   * 6,000 statements). A page with no entries records nothing at all.
   */
  record(peerId: string, entries: readonly WireEntry[], scope: readonly string[]): void
}

export function createServedLog(ctx: StoreContext, opts: { maxRowsPerPeer?: number } = {}): ServedLog {
  const maxRowsPerPeer = opts.maxRowsPerPeer ?? ACCESS_LOG_MAX_ROWS_PER_PEER
  let pending: ServedRow[] = []
  const flush = () => {
    const rows = pending
    pending = []
    writeServed(ctx, rows, maxRowsPerPeer)
  }
  return {
    record(peerId, entries, scope) {
      if (entries.length === 0) return
      let deleted = 0
      for (const e of entries) if ('deleted' in e) deleted++
      const row = {
        peerId,
        at: ctx.clock.now(),
        count: entries.length,
        deleted,
        first: entries[0]!.id,
        last: entries[entries.length - 1]!.id,
        scopeJson: JSON.stringify(scope),
      }
      // The first row of a turn schedules the write that takes every row recorded until it runs.
      if (pending.push(row) === 1) ctx.defer(flush)
    },
  }
}

/** A peer's log head as the batch moves it: its newest row and how many it has logged. */
interface Head {
  lastPk: number | null
  logged: number
  /** Entries served in this batch, and the scope last asked with. */
  served: number
  scopeJson: string
}

/**
 * Writes a turn's served pages (inside the deferred write): each row links to its peer's newest
 * one and is that peer's logged_pages-th, as if written one by one. The rows' pks are handed out
 * here as SQLite would (the highest so far, plus one), so a peer's second row in the batch can
 * link to its first in the same INSERT.
 */
function writeServed(ctx: StoreContext, rows: readonly ServedRow[], maxRowsPerPeer: number): void {
  if (rows.length === 0) return
  const heads = new Map<string, Head>()
  const ids = [...new Set(rows.map((r) => r.peerId))]
  const known = ctx.db
    .query('SELECT peer_id, last_log_pk, logged_pages FROM peer_state WHERE peer_id IN (SELECT value FROM json_each(?))')
    .all(JSON.stringify(ids)) as { peer_id: string; last_log_pk: number | null; logged_pages: number }[]
  for (const k of known) heads.set(k.peer_id, { lastPk: k.last_log_pk, logged: k.logged_pages, served: 0, scopeJson: '' })
  let { top } = ctx.db.query('SELECT coalesce(max(pk), 0) AS top FROM access_log').get() as { top: number }
  const values: (string | number | null)[][] = []
  const prunes: { peerId: string; seq: number; at: number }[] = []
  for (const r of rows) {
    let head = heads.get(r.peerId)
    if (!head) heads.set(r.peerId, (head = { lastPk: null, logged: 0, served: 0, scopeJson: '' }))
    const pk = ++top
    const seq = head.logged + 1
    values.push([pk, r.at, r.peerId, r.count, r.deleted, r.first, r.last, head.lastPk, seq])
    Object.assign(head, { lastPk: pk, logged: seq, served: head.served + r.count, scopeJson: r.scopeJson })
    if (seq % PRUNE_EVERY_PAGES === 0) prunes.push({ peerId: r.peerId, seq, at: r.at })
  }
  for (const run of runsOf(values)) {
    ctx.db
      .query(
        `INSERT INTO access_log (pk, at_ms, peer_id, count, deleted, first_id, last_id, prev_pk, peer_seq) VALUES ${valuesOf('(?, ?, ?, ?, ?, ?, ?, ?, ?)', run.length)}`,
      )
      .run(...run.flat())
  }
  for (const run of runsOf([...heads])) {
    ctx.db
      .query(
        `INSERT INTO peer_state (peer_id, served_total, served_scope, logged_pages, last_log_pk) VALUES ${valuesOf('(?, ?, ?, ?, ?)', run.length)}
         ON CONFLICT (peer_id) DO UPDATE SET served_total = served_total + excluded.served_total, served_scope = excluded.served_scope,
           logged_pages = excluded.logged_pages, last_log_pk = excluded.last_log_pk`,
      )
      .run(...run.flatMap(([id, h]) => [id, h.served, h.scopeJson, h.logged, h.lastPk]))
  }
  for (const p of prunes) prune(ctx, p.peerId, p.seq, p.at, maxRowsPerPeer)
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
