/**
 * Per-peer sync state (cursor, scope, last outcome, counters). Cursors live here, next to the
 * copies they describe, never in peers.toml; applyRemote() writes the cursor in its own transaction.
 */
import type { StoreContext } from './_context'
import type { PeerSyncState } from './types'

/** Long enough for any error we produce; bounds what a misbehaving peer can make us store. */
const LAST_ERROR_MAX_CHARS = 1000

export function peerState(ctx: StoreContext, peerId: string): PeerSyncState {
  ctx.flushDeferred() // served_total may be in a deferred access-log write
  const row = ctx.db.query('SELECT * FROM peer_state WHERE peer_id = ?').get(peerId) as PeerSyncState | null
  return row ?? noSyncState(peerId)
}

/**
 * Every peer's sync state in one read, by peer id (a peer never pulled from or served has none:
 * noSyncState). For what lists every peer: one query a listing, not one a peer.
 */
export function peerStates(ctx: StoreContext): ReadonlyMap<string, PeerSyncState> {
  ctx.flushDeferred()
  const rows = ctx.db.query('SELECT * FROM peer_state').all() as PeerSyncState[]
  return new Map(rows.map((r) => [r.peer_id, r]))
}

/** The state of a peer with no row yet. */
export function noSyncState(peerId: string): PeerSyncState {
  return {
    peer_id: peerId,
    cursor: null,
    scope_key: null,
    last_sync_at: null,
    last_error: null,
    consecutive_failures: 0,
    pulled_total: 0,
    served_total: 0,
    copy_bytes: 0,
    held_deletes: 0,
  }
}

/** Pull outcomes and served counts are bookkeeping, redone by the next pull: their commits do not sync. */
const NOT_SYNCED = { durable: false }

export function recordPull(ctx: StoreContext, peerId: string, outcome: { ok: true; at: string } | { ok: false; error: string }): void {
  ctx.write(() => recordPullNow(ctx, peerId, outcome), NOT_SYNCED)
}

function recordPullNow(ctx: StoreContext, peerId: string, outcome: { ok: true; at: string } | { ok: false; error: string }): void {
  if (outcome.ok) {
    ctx.db
      .query(
        `INSERT INTO peer_state (peer_id, last_sync_at) VALUES (?, ?)
         ON CONFLICT (peer_id) DO UPDATE SET last_sync_at = excluded.last_sync_at, last_error = NULL, consecutive_failures = 0`,
      )
      .run(peerId, outcome.at)
  } else {
    ctx.db
      .query(
        `INSERT INTO peer_state (peer_id, last_error, consecutive_failures) VALUES (?, ?, 1)
         ON CONFLICT (peer_id) DO UPDATE SET last_error = excluded.last_error, consecutive_failures = consecutive_failures + 1`,
      )
      .run(peerId, String(outcome.error).slice(0, LAST_ERROR_MAX_CHARS))
  }
}

export function recordServed(ctx: StoreContext, peerId: string, count: number): void {
  ctx.write(
    () =>
      ctx.db
        .query(
          `INSERT INTO peer_state (peer_id, served_total) VALUES (?, ?)
       ON CONFLICT (peer_id) DO UPDATE SET served_total = served_total + excluded.served_total`,
        )
        .run(peerId, count),
    NOT_SYNCED,
  )
}
