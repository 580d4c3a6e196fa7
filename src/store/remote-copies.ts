/**
 * Pulling side: copies of peers' public memories, stored as `peer:<peer-id>:<origin label>` and
 * keyed by (origin peer, origin id). They were public at their origin, so they are stored in
 * plaintext: encrypting them would protect nothing the peer did not already publish to us.
 * Copies are never served onwards (the gate excludes them), so they are hard-deleted. Their
 * full-text rows are written in the page's own transaction, after its other writes
 * (copy-index.ts), so a stored copy is searchable at once.
 */
import { BadInput, PodError } from '../lib/errors'
import { uuidv7, type SqlValue } from '../runtime'
import type { MemoryRow, StoreContext } from './_context'
import { copyLabel } from './gate'
import { isUuid, LABEL_FORBIDDEN_RE, LABEL_MAX_CHARS } from '../protocol'
import type { ApplyOptions, ApplyResult, WireEntry } from './types'
import { indexCopies, type CopyText } from './copy-index'
import { indexedAsIs } from './blind-index'
import { type CopyChange, forgetWindow, guardChanges, peerHold, takeStaged, unstage } from './mass-change'
import { VAULT_PREFIX } from './vault'
import { scopeNarrows } from '../scope'
import { runsOf, valuesOf } from './multi-row'

const CURSOR_MAX_CHARS = 256
/** A page lost to a power cut is pulled again from the cursor stored before it: its commit does not sync. */
const NOT_SYNCED = { durable: false }

export function checkPeerId(peerId: string): string {
  if (!isUuid(peerId)) throw new BadInput('peer id must be a lowercase UUID')
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
}

/**
 * Why a well-formed copy breaks the puller's own rules (the peer's may differ), or null. Such a
 * copy is dropped and counted, never stored: one bad memory must not block the peer's others.
 */
export function copyProblem(e: { label: string; content: string }, maxContentBytes: number): string | null {
  if (e.label.length > LABEL_MAX_CHARS) return `label is longer than ${LABEL_MAX_CHARS} characters`
  if (LABEL_FORBIDDEN_RE.test(e.label)) return 'label contains control or bidi-override characters'
  // Vault ciphertext is never served; a peer that sends it anyway gets it dropped.
  if (e.content.startsWith(VAULT_PREFIX)) return 'content is vault ciphertext'
  // A UTF-16 unit is 1 to 3 UTF-8 bytes, so the length alone settles most copies without a count.
  const n = e.content.length
  if (n > maxContentBytes || (n * 3 > maxContentBytes && Buffer.byteLength(e.content, 'utf8') > maxContentBytes)) {
    return `content is over max_content_bytes (${maxContentBytes})`
  }
  return null
}

/**
 * What one copy costs beyond its text: its row, index entries and page slack. 40,000 one-byte
 * copies took 21.5 MB on disk (about 540 bytes each) while their label + content came to 1.8 MB;
 * without this a peer could fill the disk many times past its quota with tiny copies.
 */
export const COPY_ROW_OVERHEAD_BYTES = 256

/** What a copy costs against the peer's quota: its stored label and content in UTF-8 bytes, plus the row overhead. */
function copyBytes(label: string, content: string): number {
  return Buffer.byteLength(label, 'utf8') + Buffer.byteLength(content, 'utf8') + COPY_ROW_OVERHEAD_BYTES
}

/** copyBytes() in SQL, for rows deleted with RETURNING. */
const COPY_BYTES_SQL = `length(CAST(label AS BLOB)) + length(CAST(content AS BLOB)) + ${COPY_ROW_OVERHEAD_BYTES}`

/** The peer went over `max_peer_bytes`: the page is not stored, nor its cursor. */
export class QuotaExceeded extends PodError {
  constructor(message: string) {
    super('quota_exceeded', message)
  }
}

/**
 * Applies one page from `peerId` and stores `cursor` with it, in ONE transaction: after a crash
 * (or a throw anywhere in the page) either the whole page and its cursor are stored, or neither.
 *
 * Copies that break our rules are dropped (counted). A page that would take the peer's copies
 * past `maxPeerBytes` throws QuotaExceeded and stores nothing. New copies are stored at once;
 * deletes and overwrites of copies we hold go through the mass-change guard (mass-change.ts):
 * applied at once below its threshold, staged near it until the pull's last page (`final`),
 * held past it until acceptDeletes().
 */
export function applyRemote(ctx: StoreContext, peerId: string, entries: WireEntry[], cursor: string, opts: ApplyOptions = {}): ApplyResult {
  checkPeerId(peerId)
  if (typeof cursor !== 'string' || cursor.length > CURSOR_MAX_CHARS) throw new BadInput(`cursor must be a string of at most ${CURSOR_MAX_CHARS} characters`)
  if (!Array.isArray(entries)) throw new BadInput('entries must be an array')
  const final = opts.final ?? true
  const maxPeerBytes = ctx.maxPeerBytes
  const { db } = ctx
  const existing = db.query('SELECT pk, label, content, created_at, updated_at FROM memories WHERE origin_peer = ? AND origin_id = ?')
  const has = db.query('SELECT 1 AS one FROM memories WHERE origin_peer = ? AND origin_id = ?')

  return ctx.write(() => {
    let stored = 0
    let dropped = 0
    const before = peerBytes(ctx, peerId)
    let bytes = before
    // Almost always false: then no entry needs a pending_deletes lookup.
    const staged = db.query('SELECT 1 AS one FROM pending_deletes WHERE peer_id = ? LIMIT 1').get(peerId) !== null
    // One counter update per page instead of one per entry; unused numbers just leave gaps.
    let seq = entries.length > 0 ? ctx.nextSeq(entries.length) : 0
    const now = ctx.clock.now()
    const changes: CopyChange[] = []
    const toIndex: ToIndex = new Map()
    // Copies to insert, written together (insertCopies) before anything that could see them: a
    // tombstone. So the page is applied as if entry by entry, in its order: the same id twice in
    // one batch is inserted once, and its second entry, finding the first, is an overwrite.
    let pending: NewCopy[] = []
    const flush = () => {
      if (pending.length === 0) return
      const pks = insertCopies(ctx, peerId, pending, now)
      for (let i = 0; i < pending.length; i++) {
        const c = pending[i]!
        stored++
        const pk = pks[i]
        if (pk !== undefined) {
          // ASCII (most copies): as many UTF-8 bytes as characters, and indexed from its row.
          const asIs = indexedAsIs(c.entry.label) && indexedAsIs(c.entry.content)
          bytes += asIs ? c.label.length + c.entry.content.length + COPY_ROW_OVERHEAD_BYTES : copyBytes(c.label, c.entry.content)
          toIndex.set(pk, { pk, label: c.entry.label, content: c.entry.content, asIs })
          continue
        }
        const e = c.entry
        const old = existing.get(peerId, e.id) as Pick<MemoryRow, 'label' | 'content' | 'created_at' | 'updated_at'>
        // A re-pull after a scope change resends what we hold; an identical copy is no change (and,
        // sent again after a tombstone, e.g. made public again, no longer to be deleted).
        const same = old.label === c.label && old.content === e.content && old.created_at === e.created_at && old.updated_at === e.updated_at
        if (same) {
          if (staged) unstage(ctx, peerId, e.id)
        } else changes.push({ originId: e.id, memory: { label: e.label, content: e.content, created_at: e.created_at, updated_at: e.updated_at } })
      }
      pending = []
    }
    entries.forEach((e, i) => {
      checkEntry(e, i)
      if ('deleted' in e) {
        flush()
        if (has.get(peerId, e.id)) changes.push({ originId: e.id, memory: null })
        return
      }
      if (copyProblem(e, ctx.maxContentBytes)) {
        dropped++
        return
      }
      pending.push({ entry: e, label: copyLabel(peerId, e.label), seq: seq++ })
    })
    flush()
    const guarded = guardChanges(ctx, peerId, changes, final, (c) => applyChange(ctx, peerId, c, toIndex))
    bytes += guarded.bytesDelta
    // Only a page that grows the peer's share is refused: deletions and shrinking edits still
    // apply over quota, so lowering max_peer_bytes never wedges a peer that is cleaning up.
    if (bytes > maxPeerBytes && bytes > before) {
      throw new QuotaExceeded(
        `copies from this peer would take ${bytes} bytes, over max_peer_bytes (${maxPeerBytes}); nothing more is stored until you raise max_peer_bytes in pod.toml and restart`,
      )
    }
    indexCopies(ctx, [...toIndex.values()])
    db.query(
      `INSERT INTO peer_state (peer_id, cursor, pulled_total, copy_bytes, held_deletes) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (peer_id) DO UPDATE SET cursor = excluded.cursor, pulled_total = pulled_total + excluded.pulled_total,
         copy_bytes = excluded.copy_bytes, held_deletes = excluded.held_deletes`,
    ).run(peerId, cursor, entries.length, Math.max(0, bytes), guarded.held)
    return { stored, deleted: guarded.deleted, dropped, held: guarded.held }
  }, NOT_SYNCED)
}

/** Copies whose full-text rows the transaction writes at its end (indexCopies), by pk. */
type ToIndex = Map<number, CopyText>

/** A copy of the page to insert: the entry, its stored label and the change sequence number it gets. */
interface NewCopy {
  entry: { id: string; label: string; content: string; created_at: string; updated_at: string }
  label: string
  seq: number
}

/**
 * Inserts the copies that are new, a run of rows per statement (multi-row.ts), in their order;
 * returns the pk of each one inserted, at its position in `copies`. A copy we already hold (same
 * origin peer and id, stored before or earlier in `copies`) is left as it is: undefined there.
 *
 * Nothing here looks a copy up by its id. Hashing an id string for a Map or Set is a cost of its
 * own the first time (Deno: about 0.4 µs for an id from JSON.parse, ten times a second lookup),
 * and the position says it all: a row went in exactly when its pk exists.
 */
function insertCopies(ctx: StoreContext, peerId: string, copies: readonly NewCopy[], now: number): (number | undefined)[] {
  const pks: (number | undefined)[] = new Array(copies.length)
  // The pks SQLite would pick (one past the largest), given up front so no row needs to be read back.
  const base = (ctx.db.query('SELECT coalesce(max(pk), 0) AS pk FROM memories').get() as { pk: number }).pk + 1
  let pk = base
  for (const run of runsOf(copies)) {
    const first = pk
    const params: SqlValue[] = []
    for (const c of run) params.push(pk++, uuidv7(now), c.label, c.entry.content, c.entry.created_at, c.entry.updated_at, c.seq, peerId, c.entry.id)
    const { changes } = ctx.db
      .query(
        `INSERT INTO memories (pk, id, label, content, encrypted, created_at, updated_at, seq, origin_peer, origin_id)
         VALUES ${valuesOf('(?, ?, ?, ?, 0, ?, ?, ?, ?, ?)', run.length)}
         ON CONFLICT (origin_peer, origin_id) DO NOTHING`,
      )
      .run(...params)
    if (changes === run.length) {
      for (let p = first; p < pk; p++) pks[p - base] = p
      continue
    }
    // Some were held already: which of this run's pks exist says which went in.
    const rows = ctx.db.query('SELECT pk FROM memories WHERE pk BETWEEN ? AND ?').all(first, pk - 1) as { pk: number }[]
    for (const r of rows) pks[r.pk - base] = r.pk
  }
  return pks
}

/**
 * Deletes or overwrites one copy (the guard let the change through). An overwritten copy's
 * full-text row joins `toIndex`; a deleted one leaves it (stored and deleted in one page).
 */
function applyChange(ctx: StoreContext, peerId: string, change: CopyChange, toIndex: ToIndex): { deleted: boolean; bytesDelta: number } {
  const { db } = ctx
  if (change.memory === null) {
    const gone = db.query(`DELETE FROM memories WHERE origin_peer = ? AND origin_id = ? RETURNING pk, ${COPY_BYTES_SQL} AS n`).get(peerId, change.originId) as {
      pk: number
      n: number
    } | null // the trigger drops the index row
    if (gone) toIndex.delete(gone.pk)
    return { deleted: true, bytesDelta: gone ? -gone.n : 0 }
  }
  const old = db.query('SELECT pk, label, content FROM memories WHERE origin_peer = ? AND origin_id = ?').get(peerId, change.originId) as Pick<
    MemoryRow,
    'pk' | 'label' | 'content'
  > | null
  if (!old) return { deleted: false, bytesDelta: 0 } // deleted meanwhile (a scope change): nothing to overwrite
  const m = change.memory
  const label = copyLabel(peerId, m.label)
  db.query('UPDATE memories SET label = ?, content = ?, created_at = ?, updated_at = ?, seq = ? WHERE pk = ?').run(
    label,
    m.content,
    m.created_at,
    m.updated_at,
    ctx.nextSeq(),
    old.pk,
  )
  if (!toIndex.delete(old.pk)) ctx.unindex(old.pk) // a copy stored by this page has no row yet
  toIndex.set(old.pk, { pk: old.pk, label: m.label, content: m.content })
  return { deleted: false, bytesDelta: copyBytes(label, m.content) - copyBytes(old.label, old.content) }
}

function peerBytes(ctx: StoreContext, peerId: string): number {
  return (ctx.db.query('SELECT copy_bytes FROM peer_state WHERE peer_id = ?').get(peerId) as { copy_bytes: number } | null)?.copy_bytes ?? 0
}

/**
 * The operator accepts a held mass change: the waiting deletes and overwrites apply now, the
 * hold is lifted and the peer's change window starts afresh. Returns how many copies were
 * deleted or overwritten (0 when nothing was held).
 */
export function acceptDeletes(ctx: StoreContext, peerId: string): number {
  checkPeerId(peerId)
  return ctx.write(() => {
    if (peerHold(ctx, peerId) === 0) return 0
    let bytes = peerBytes(ctx, peerId)
    const changes = takeStaged(ctx, peerId)
    const toIndex: ToIndex = new Map()
    for (const c of changes) bytes += applyChange(ctx, peerId, c, toIndex).bytesDelta
    indexCopies(ctx, [...toIndex.values()])
    forgetWindow(ctx, peerId)
    ctx.db.query('UPDATE peer_state SET held_deletes = 0, copy_bytes = ? WHERE peer_id = ?').run(Math.max(0, bytes), peerId)
    return changes.length
  })
}

/**
 * The scope for `peerId` changed since the last pull: drop copies whose origin label no longer
 * matches and remember the scope. A narrowed scope (scopeNarrows) keeps the cursor: the feed
 * already sent everything the old scope covered up to it, so the pull goes on where it was and
 * what waits for the mass-change guard stays (but for the dropped copies). Any other change
 * clears the cursor, so newly matching memories are fetched from the start. Returns how many
 * copies were dropped; 0 without touching anything when the scope is unchanged.
 */
export function resetScope(ctx: StoreContext, peerId: string, scope: string[]): number {
  checkPeerId(peerId)
  if (!Array.isArray(scope) || scope.some((g) => typeof g !== 'string')) throw new BadInput('scope must be an array of label globs')
  const key = JSON.stringify(scope)
  const storedKey = () => (ctx.db.query('SELECT scope_key FROM peer_state WHERE peer_id = ?').get(peerId) as { scope_key: string | null } | null)?.scope_key
  // The common case (unchanged) needs no write lock.
  if (storedKey() === key) return 0
  return ctx.write(() => {
    const stored = storedKey()
    if (stored === key) return 0
    const before = storedScope(stored)
    const keepCursor = before !== null && scopeNarrows(before, scope)
    const prefixLength = copyLabel(peerId, '').length
    const copies = ctx.db.query('SELECT pk, label, origin_id FROM memories WHERE origin_peer = ?').all(peerId) as Pick<
      MemoryRow,
      'pk' | 'label' | 'origin_id'
    >[]
    const drop = ctx.db.query(`DELETE FROM memories WHERE pk = ? RETURNING ${COPY_BYTES_SQL} AS n`)
    const unstage = ctx.db.query('DELETE FROM pending_deletes WHERE peer_id = ? AND origin_id = ?')
    // Its changes leave the mass-change window with it: they would count against fewer copies.
    const unwindow = ctx.db.query('DELETE FROM peer_changes WHERE peer_id = ? AND origin_id = ?')
    let dropped = 0
    let bytes = peerBytes(ctx, peerId)
    const inScope = ctx.scopes.matcher(scope)
    for (const c of copies) {
      if (inScope(c.label.slice(prefixLength))) continue
      bytes -= (drop.get(c.pk) as { n: number }).n
      if (keepCursor) {
        unstage.run(peerId, c.origin_id)
        unwindow.run(peerId, c.origin_id)
      }
      dropped++
    }
    if (keepCursor) {
      // A hold counts what still waits: the dropped copies' changes went with them.
      ctx.db
        .query(
          `UPDATE peer_state SET scope_key = ?1, copy_bytes = ?2,
             held_deletes = CASE WHEN held_deletes > 0 THEN (SELECT count(*) FROM pending_deletes WHERE peer_id = ?3) ELSE 0 END
           WHERE peer_id = ?3`,
        )
        .run(key, Math.max(0, bytes), peerId)
      return dropped
    }
    // The re-pull from the start resends the tombstones that still matter; a hold is decided again.
    ctx.db.query('DELETE FROM pending_deletes WHERE peer_id = ?').run(peerId)
    ctx.db
      .query(
        `INSERT INTO peer_state (peer_id, cursor, scope_key, copy_bytes, held_deletes) VALUES (?, NULL, ?, ?, 0)
         ON CONFLICT (peer_id) DO UPDATE SET cursor = NULL, scope_key = excluded.scope_key, copy_bytes = excluded.copy_bytes, held_deletes = 0`,
      )
      .run(peerId, key, Math.max(0, bytes))
    return dropped
  })
}

/** The scope a peer was last pulled with, as resetScope stored it (null: none, or unreadable). */
function storedScope(key: string | null | undefined): string[] | null {
  if (!key) return null
  try {
    const scope: unknown = JSON.parse(key)
    return Array.isArray(scope) && scope.every((g) => typeof g === 'string') ? scope : null
  } catch {
    return null
  }
}

/** Deletes every copy pulled from `peerId` and its sync state; returns the number of copies. */
export function purgePeer(ctx: StoreContext, peerId: string): number {
  return ctx.write(() => {
    const n = ctx.db.query('DELETE FROM memories WHERE origin_peer = ?').run(peerId).changes
    ctx.db.query('DELETE FROM peer_state WHERE peer_id = ?').run(peerId)
    ctx.db.query('DELETE FROM pending_deletes WHERE peer_id = ?').run(peerId)
    forgetWindow(ctx, peerId)
    return n
  })
}

export function countPeerCopies(ctx: StoreContext, peerId: string): number {
  return (ctx.db.query('SELECT count(*) AS n FROM memories WHERE origin_peer = ?').get(peerId) as { n: number }).n
}

/** Copies held per peer, every peer in one pass over the copies' index (a peer holding none is absent). */
export function copyCounts(ctx: StoreContext): ReadonlyMap<string, number> {
  const rows = ctx.db.query('SELECT origin_peer AS peer, count(*) AS n FROM memories WHERE origin_peer IS NOT NULL GROUP BY origin_peer').all() as {
    peer: string
    n: number
  }[]
  return new Map(rows.map((r) => [r.peer, r.n]))
}
