/**
 * Pulling side: copies of peers' public memories, stored as `peer:<peer-id>:<origin label>` and
 * keyed by (origin peer, origin id). They were public at their origin, so they are stored in
 * plaintext: encrypting them would protect nothing the peer did not already publish to us.
 * Copies are never served onwards (the gate excludes them), so they are hard-deleted. Their
 * full-text rows are written after the page, by copy-index.ts (queued in fts_pending).
 */
import { matchesAny } from '../lib/glob'
import { BadInput } from '../lib/errors'
import type { MemoryRow, StoreContext } from './_context'
import { copyLabel } from './gate'
import { LABEL_MAX_CHARS } from './schemas'
import type { WireEntry } from './types'

const PEER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const CURSOR_MAX_CHARS = 256

export function checkPeerId(peerId: string): string {
  if (typeof peerId !== 'string' || !PEER_ID.test(peerId)) throw new BadInput('peer id must be a lowercase UUID')
  return peerId
}

function checkEntry(e: WireEntry, i: number): void {
  const bad = (why: string) => new BadInput(`entry ${i} of the page: ${why}; nothing of this page was stored`)
  if (typeof e !== 'object' || e === null || typeof e.id !== 'string' || e.id === '') throw bad('id missing')
  if ('deleted' in e) {
    if (e.deleted !== true) throw bad('deleted must be true')
    return
  }
  for (const k of ['label', 'content', 'created_at', 'updated_at'] as const) {
    if (typeof e[k] !== 'string' || e[k] === '') throw bad(`${k} must be a non-empty string`)
  }
  if (e.label.length > LABEL_MAX_CHARS) throw bad(`label is longer than ${LABEL_MAX_CHARS} characters`)
}

/**
 * Applies one page from `peerId` and stores `cursor` with it, in ONE transaction: after a crash
 * (or a throw anywhere in the page) either the whole page and its cursor are stored, or neither.
 */
export function applyRemote(ctx: StoreContext, peerId: string, entries: WireEntry[], cursor: string): { stored: number; deleted: number } {
  checkPeerId(peerId)
  if (typeof cursor !== 'string' || cursor.length > CURSOR_MAX_CHARS) throw new BadInput(`cursor must be a string of at most ${CURSOR_MAX_CHARS} characters`)
  if (!Array.isArray(entries)) throw new BadInput('entries must be an array')
  const { db } = ctx
  const insert = db.query(
    `INSERT INTO memories (id, label, content, encrypted, created_at, updated_at, seq, origin_peer, origin_id)
     VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?)
     ON CONFLICT (origin_peer, origin_id) DO NOTHING RETURNING pk`,
  )
  const existing = db.query('SELECT pk, label, content, created_at, updated_at FROM memories WHERE origin_peer = ? AND origin_id = ?')
  const update = db.query('UPDATE memories SET label = ?, content = ?, created_at = ?, updated_at = ?, seq = ? WHERE pk = ?')
  const remove = db.query('DELETE FROM memories WHERE origin_peer = ? AND origin_id = ?')
  const queueIndex = db.query('INSERT OR IGNORE INTO fts_pending (pk) VALUES (?)')

  return ctx.write(() => {
    let stored = 0
    let deleted = 0
    // One counter update per page instead of one per entry; unused numbers just leave gaps.
    let seq = entries.length > 0 ? ctx.nextSeq(entries.length) : 0
    const now = ctx.clock.now()
    entries.forEach((e, i) => {
      checkEntry(e, i)
      if ('deleted' in e) {
        deleted += remove.run(peerId, e.id).changes // the trigger drops the index row
        return
      }
      const label = copyLabel(peerId, e.label)
      const added = insert.get(Bun.randomUUIDv7('hex', now), label, e.content, e.created_at, e.updated_at, seq, peerId, e.id) as { pk: number } | null
      if (added) {
        seq++
        queueIndex.run(added.pk)
      } else {
        const old = existing.get(peerId, e.id) as Pick<MemoryRow, 'pk' | 'label' | 'content' | 'created_at' | 'updated_at'>
        // A re-pull after a scope change resends what we hold; leave identical copies alone.
        const same = old.label === label && old.content === e.content && old.created_at === e.created_at && old.updated_at === e.updated_at
        if (!same) {
          update.run(label, e.content, e.created_at, e.updated_at, seq++, old.pk)
          ctx.unindex(old.pk)
          queueIndex.run(old.pk)
        }
      }
      stored++
    })
    db.query(
      `INSERT INTO peer_state (peer_id, cursor, pulled_total) VALUES (?, ?, ?)
       ON CONFLICT (peer_id) DO UPDATE SET cursor = excluded.cursor, pulled_total = pulled_total + excluded.pulled_total`,
    ).run(peerId, cursor, entries.length)
    return { stored, deleted }
  })
}

/**
 * The scope for `peerId` changed since the last pull: drop copies whose origin label no longer
 * matches, clear the cursor (so newly matching memories are fetched) and remember the scope.
 * Returns how many copies were dropped; 0 without touching anything when the scope is unchanged.
 */
export function resetScope(ctx: StoreContext, peerId: string, scope: string[]): number {
  checkPeerId(peerId)
  if (!Array.isArray(scope) || scope.some((g) => typeof g !== 'string')) throw new BadInput('scope must be an array of label globs')
  const key = JSON.stringify(scope)
  const storedKey = () => (ctx.db.query('SELECT scope_key FROM peer_state WHERE peer_id = ?').get(peerId) as { scope_key: string | null } | null)?.scope_key
  // The common case (unchanged) needs no write lock.
  if (storedKey() === key) return 0
  return ctx.write(() => {
    if (storedKey() === key) return 0
    const prefixLength = copyLabel(peerId, '').length
    const copies = ctx.db.query('SELECT pk, label FROM memories WHERE origin_peer = ?').all(peerId) as Pick<MemoryRow, 'pk' | 'label'>[]
    const drop = ctx.db.query('DELETE FROM memories WHERE pk = ?')
    let dropped = 0
    for (const c of copies) {
      if (matchesAny(c.label.slice(prefixLength), scope)) continue
      drop.run(c.pk)
      dropped++
    }
    ctx.db
      .query(
        `INSERT INTO peer_state (peer_id, cursor, scope_key) VALUES (?, NULL, ?)
         ON CONFLICT (peer_id) DO UPDATE SET cursor = NULL, scope_key = excluded.scope_key`,
      )
      .run(peerId, key)
    return dropped
  })
}

/** Deletes every copy pulled from `peerId` and its sync state; returns the number of copies. */
export function purgePeer(ctx: StoreContext, peerId: string): number {
  return ctx.write(() => {
    const n = ctx.db.query('DELETE FROM memories WHERE origin_peer = ?').run(peerId).changes
    ctx.db.query('DELETE FROM peer_state WHERE peer_id = ?').run(peerId)
    return n
  })
}

export function countPeerCopies(ctx: StoreContext, peerId: string): number {
  return (ctx.db.query('SELECT count(*) AS n FROM memories WHERE origin_peer = ?').get(peerId) as { n: number }).n
}
