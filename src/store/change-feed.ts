/**
 * Serving side of POST /peer/sync: the change feed. Rows that were ever shared are scanned in
 * feed order (feed_seq, which moves only when a peer has something new to learn about the row);
 * each is sent in full only if it passes the gate NOW (current label, content and prefixes) and
 * the caller's scope, and as `{id, deleted: true}` otherwise, so a peer drops a copy that was
 * deleted, re-labelled private or fell out of scope. Never-shared rows never appear.
 */
import { matchesAny } from '../lib/glob'
import { BadInput } from '../lib/errors'
import type { MemoryRow, StoreContext } from './_context'
import { isGateEligible } from './gate'
import { checkInt, parseSeqCursor } from './schemas'
import type { ChangePage, WireEntry } from './types'

export const FEED_LIMIT_MAX = 1000
const PREFIXES_META_KEY = 'public_prefixes'

export function changesSince(ctx: StoreContext, since: string | null, scope: string[], limit: number): ChangePage {
  const from = since === null ? 0 : parseSeqCursor(since, 'since cursor')
  checkInt(limit, 1, FEED_LIMIT_MAX, 'limit')
  if (!Array.isArray(scope) || scope.some((g) => typeof g !== 'string')) throw new BadInput('scope must be an array of label globs')
  // One statement = one consistent snapshot; writers commit in seq order (write() is IMMEDIATE),
  // so no row can later appear below a cursor we handed out.
  const rows = ctx.db
    .query(
      `SELECT id, label, content, created_at, updated_at, deleted, origin_peer, feed_seq
       FROM memories WHERE shared = 1 AND feed_seq > ? ORDER BY feed_seq LIMIT ?`,
    )
    .all(from, limit + 1) as (Pick<MemoryRow, 'id' | 'label' | 'content' | 'created_at' | 'updated_at' | 'deleted' | 'origin_peer'> & { feed_seq: number })[]
  const more = rows.length > limit
  if (more) rows.pop()
  const memories: WireEntry[] = rows.map((r) =>
    !r.deleted && isGateEligible(r, ctx.publicPrefixes) && matchesAny(r.label, scope)
      ? { id: r.id, label: r.label, content: r.content, created_at: r.created_at, updated_at: r.updated_at }
      : { id: r.id, deleted: true },
  )
  const last = rows[rows.length - 1]
  return { cursor: last ? String(last.feed_seq) : String(from), more, memories }
}

/**
 * The operator may change `public_prefixes` in pod.toml. A shared row whose gate verdict differs
 * under the new prefixes gets a new feed position, so peers past it in the feed see the change (a tombstone
 * when it left the gate, the full entry when it came back). Runs at open; a no-op when unchanged.
 */
export function reconcilePrefixes(ctx: StoreContext): number {
  const current = JSON.stringify(ctx.publicPrefixes)
  const read = () => (ctx.db.query('SELECT value FROM meta WHERE key = ?').get(PREFIXES_META_KEY) as { value: string } | null)?.value
  if (read() === current) return 0
  return ctx.write(() => {
    const stored = read()
    if (stored === current) return 0
    let bumped = 0
    if (stored !== undefined) {
      const before = JSON.parse(stored) as string[]
      const rows = ctx.db
        .query('SELECT pk, label, content, origin_peer FROM memories WHERE shared = 1 AND deleted = 0')
        .all() as Pick<MemoryRow, 'pk' | 'label' | 'content' | 'origin_peer'>[]
      const bump = ctx.db.query('UPDATE memories SET feed_seq = ? WHERE pk = ?')
      for (const r of rows) {
        if (isGateEligible(r, before) === isGateEligible(r, ctx.publicPrefixes)) continue
        bump.run(ctx.nextSeq(), r.pk)
        bumped++
      }
    }
    ctx.db.query('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(PREFIXES_META_KEY, current)
    return bumped
  })
}
