/**
 * Serving side of POST /peer/sync: the change feed. Rows that were ever shared are scanned in
 * feed order (feed_seq, which moves only when a peer has something new to learn about the row);
 * each is sent in full only if it passes the gate NOW (current label, content and prefixes) and
 * the caller's scope, and as `{id, deleted: true}` otherwise, so a peer drops a copy that was
 * deleted, re-labelled private or fell out of scope. Never-shared rows never appear.
 */
import { BadInput } from '../lib/errors'
import type { MemoryRow, StoreContext } from './_context'
import { isGateEligible } from './gate'
import { checkInt, parseSeqCursor } from './schemas'
import type { ChangePage, WireEntry } from './types'

export const FEED_LIMIT_MAX = 1000

export function changesSince(ctx: StoreContext, since: string | null, scope: string[], limit: number): ChangePage {
  const from = since === null ? 0 : parseSeqCursor(since, 'since cursor')
  checkInt(limit, 1, FEED_LIMIT_MAX, 'limit')
  if (!Array.isArray(scope) || scope.some((g) => typeof g !== 'string')) throw new BadInput('scope must be an array of label globs')
  // One statement = one consistent snapshot; writers commit in seq order (write() is IMMEDIATE),
  // so no row can later appear below a cursor we handed out.
  const rows = ctx.db
    .query(
      `SELECT id, label, content, created_at, updated_at, deleted, origin_peer, held, feed_seq
       FROM memories WHERE shared = 1 AND feed_seq > ? ORDER BY feed_seq LIMIT ?`,
    )
    .all(from, limit + 1) as (Pick<MemoryRow, 'id' | 'label' | 'content' | 'created_at' | 'updated_at' | 'deleted' | 'origin_peer' | 'held'> & {
    feed_seq: number
  })[]
  const more = rows.length > limit
  if (more) rows.pop()
  const inScope = ctx.scopes.matcher(scope) // compiled once, kept for the next pages
  const memories: WireEntry[] = rows.map((r) =>
    servedInFull(r, ctx.publicPrefixes, inScope)
      ? { id: r.id, label: r.label, content: r.content, created_at: r.created_at, updated_at: r.updated_at }
      : { id: r.id, deleted: true },
  )
  const last = rows[rows.length - 1]
  return { cursor: last ? String(last.feed_seq) : String(from), more, memories }
}

/**
 * The feed's decision for one row (shared = 1): sent in full to a peer asking with `scope`, or
 * as a tombstone. The share preview and the panel's "who receives this" ask exactly this.
 */
export function servedInFull(
  r: Pick<MemoryRow, 'label' | 'content' | 'deleted' | 'origin_peer' | 'held'>,
  prefixes: readonly string[],
  inScope: (label: string) => boolean,
): boolean {
  return !r.deleted && isGateEligible(r, prefixes) && inScope(r.label)
}

/**
 * Which peers would receive each memory in full if they pulled now: servedInFull() per row and
 * per peer scope, over rows the feed serves at all (shared = 1). Unknown ids map to [].
 */
export function audience(ctx: StoreContext, ids: readonly string[], scopes: Readonly<Record<string, readonly string[]>>): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  const matchers = Object.entries(scopes).map(([peer, scope]) => [peer, ctx.scopes.matcher(scope)] as const)
  const select = ctx.db.query('SELECT label, content, deleted, origin_peer, held, shared FROM memories WHERE id = ?')
  for (const id of ids) {
    const row = select.get(id) as Pick<MemoryRow, 'label' | 'content' | 'deleted' | 'origin_peer' | 'held' | 'shared'> | null
    out[id] = row?.shared ? matchers.filter(([, inScope]) => servedInFull(row, ctx.publicPrefixes, inScope)).map(([peer]) => peer) : []
  }
  return out
}
