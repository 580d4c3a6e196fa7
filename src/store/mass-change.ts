/**
 * The mass-change guard on pulled copies. A peer that deletes or overwrites more than half of
 * the copies we hold from it (and more than MASS_CHANGE_MIN) within a rolling 24 h window is held
 * for the operator, however it spreads the changes over pulls: the changes wait in
 * pending_deletes (a NULL label is a delete, else the new version of an overwrite) and
 * peer_state.held_deletes counts them until acceptChanges(). A tombstone for a copy is a delete;
 * a memory re-labelled private at its origin reaches us as one too.
 *
 * Below the threshold, changes apply as they arrive (a live forget reaches us in milliseconds).
 * Staging begins only when a burst approaches it: past half the threshold, a pull's further
 * changes wait for its last page, and are then applied, or held as one mass change. The window
 * lives in peer_changes (each copy changed, with when), so a restart does not reset it, and a copy
 * changed again counts once.
 */
import type { StoreContext } from './_context'

/** A pull may change up to this many copies, or up to half of the peer's copies, within the window. */
export const MASS_CHANGE_MIN = 100
export const MASS_CHANGE_WINDOW_MS = 24 * 60 * 60 * 1000

/** A copy's content as the peer serves it (its origin label, not ours). */
export interface CopyVersion {
  label: string
  content: string
  created_at: string
  updated_at: string
}

/** One change to a copy: a delete (`memory` null) or the new version of an overwrite. */
export interface CopyChange {
  originId: string
  memory: CopyVersion | null
}

interface Window {
  /** Copies this peer deleted or overwrote within the window (each once). */
  changed: number
  /** Of which deleted: added back to today's copies, they give what the peer held at the window's start. */
  deleted: number
}

function changeWindow(ctx: StoreContext, peerId: string, now: number): Window {
  return ctx.db
    .query('SELECT count(*) AS changed, coalesce(sum(deleted), 0) AS deleted FROM peer_changes WHERE peer_id = ? AND at_ms > ?')
    .get(peerId, now - MASS_CHANGE_WINDOW_MS) as Window
}

function recordChanges(ctx: StoreContext, peerId: string, now: number, changes: readonly CopyChange[]): void {
  if (changes.length === 0) return
  const put = ctx.db.query(
    `INSERT INTO peer_changes (peer_id, origin_id, at_ms, deleted) VALUES (?, ?, ?, ?)
     ON CONFLICT (peer_id, origin_id) DO UPDATE SET at_ms = excluded.at_ms, deleted = max(deleted, excluded.deleted)`,
  )
  for (const c of changes) put.run(peerId, c.originId, now, c.memory === null ? 1 : 0)
  ctx.db.query('DELETE FROM peer_changes WHERE peer_id = ? AND at_ms <= ?').run(peerId, now - MASS_CHANGE_WINDOW_MS)
}

/** More changes than this within the window is a mass change. */
function threshold(copies: number, window: Window): number {
  return Math.max(MASS_CHANGE_MIN, Math.floor((copies + window.deleted) / 2))
}

export function peerHold(ctx: StoreContext, peerId: string): number {
  return (ctx.db.query('SELECT held_deletes FROM peer_state WHERE peer_id = ?').get(peerId) as { held_deletes: number } | null)?.held_deletes ?? 0
}

function stagedCount(ctx: StoreContext, peerId: string): number {
  return (ctx.db.query('SELECT count(*) AS n FROM pending_deletes WHERE peer_id = ?').get(peerId) as { n: number }).n
}

/** A copy sent again unchanged is no longer to be deleted or overwritten. */
export function unstage(ctx: StoreContext, peerId: string, originId: string): void {
  ctx.db.query('DELETE FROM pending_deletes WHERE peer_id = ? AND origin_id = ?').run(peerId, originId)
}

function stage(ctx: StoreContext, peerId: string, changes: readonly CopyChange[]): void {
  const put = ctx.db.query(
    `INSERT INTO pending_deletes (peer_id, origin_id, label, content, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (peer_id, origin_id) DO UPDATE SET label = excluded.label, content = excluded.content,
       created_at = excluded.created_at, updated_at = excluded.updated_at`,
  )
  for (const c of changes)
    put.run(peerId, c.originId, c.memory?.label ?? null, c.memory?.content ?? null, c.memory?.created_at ?? null, c.memory?.updated_at ?? null)
}

/** What applying changes did: copies deleted and overwritten, and how the peer's byte total moved. */
export interface Applied {
  deleted: number
  overwritten: number
  bytesDelta: number
}

/**
 * Applies one page's changes (inside applyRemote's write), or stages them, and on the pull's
 * last page (`final`) judges what is staged. Returns what was applied and the peer's hold.
 */
export function guardChanges(
  ctx: StoreContext,
  peerId: string,
  changes: readonly CopyChange[],
  final: boolean,
  apply: (change: CopyChange) => { deleted: boolean; bytesDelta: number },
): Applied & { held: number } {
  const out: Applied & { held: number } = { deleted: 0, overwritten: 0, bytesDelta: 0, held: peerHold(ctx, peerId) }
  let staged = changes.length > 0 || final ? stagedCount(ctx, peerId) : 0
  if (changes.length === 0 && staged === 0) return out
  if (out.held > 0) {
    // Held already: everything destructive waits with it for the operator.
    stage(ctx, peerId, changes)
    out.held = stagedCount(ctx, peerId)
    return out
  }
  const now = ctx.clock.now()
  const window = changeWindow(ctx, peerId, now)
  const limit = threshold(countCopies(ctx, peerId), window)
  const applyAll = (list: readonly CopyChange[]) => {
    let deleted = 0
    for (const c of list) {
      const r = apply(c)
      out.bytesDelta += r.bytesDelta
      if (r.deleted) deleted++
      else out.overwritten++
    }
    out.deleted += deleted
    recordChanges(ctx, peerId, now, list)
  }
  if (staged === 0 && (window.changed + changes.length) * 2 <= limit) {
    // Far from the threshold: applied as they arrive.
    applyAll(changes)
    return out
  }
  stage(ctx, peerId, changes)
  staged = stagedCount(ctx, peerId)
  if (!final) return out
  if (window.changed + staged > limit) {
    out.held = staged
    return out
  }
  applyAll(takeStaged(ctx, peerId))
  return out
}

/** Every staged change of `peerId`, removed from the stage. */
export function takeStaged(ctx: StoreContext, peerId: string): CopyChange[] {
  const rows = ctx.db.query('DELETE FROM pending_deletes WHERE peer_id = ? RETURNING origin_id, label, content, created_at, updated_at').all(peerId) as {
    origin_id: string
    label: string | null
    content: string | null
    created_at: string | null
    updated_at: string | null
  }[]
  return rows.map((r) => ({
    originId: r.origin_id,
    memory: r.label === null ? null : { label: r.label, content: r.content ?? '', created_at: r.created_at ?? '', updated_at: r.updated_at ?? '' },
  }))
}

/** The operator accepted a held mass change: its window starts afresh. Call inside write(). */
export function forgetWindow(ctx: StoreContext, peerId: string): void {
  ctx.db.query('DELETE FROM peer_changes WHERE peer_id = ?').run(peerId)
}

function countCopies(ctx: StoreContext, peerId: string): number {
  return (ctx.db.query('SELECT count(*) AS n FROM memories WHERE origin_peer = ?').get(peerId) as { n: number }).n
}
