/**
 * The operator's own memories: remember, update, get, list, forget. Private content is
 * encrypted before it reaches SQL; every write takes a new change sequence number and marks the
 * row `shared` if it is gate-eligible at that moment (the feed then reports its later fate).
 * Public content is scanned for credentials on the async paths (rememberGrouped, updateScanned);
 * a hit sets `held`, which keeps the memory from every peer until release().
 */
import { BadInput } from '../lib/errors'
import { UUID_PATTERN } from '../protocol'
import { uuidv7 } from '../runtime'
import type { MemoryRow, StoreContext } from './_context'
import { PEER_LABEL_PREFIX, isGateEligible, isPublicLabel } from './gate'
import { markScrubPending } from './scrub'
import { checkContent, checkInt, checkLabel, checkTimestamps, parseSeqCursor } from './schemas'
import { heldWarning } from './secret-scan'
import type { Memory, RememberInput, RememberResult } from './types'

export const LIST_LIMIT_DEFAULT = 50
export const LIST_LIMIT_MAX = 500
/** `peer:<peer-id>:…` names one peer's copies. */
const PEER_PREFIX_LABEL = new RegExp(`^peer:(${UUID_PATTERN}):`)
/**
 * Upper bound for a label prefix range scan: no stored label is longer than this many characters
 * (own labels ≤ 256, copies add `peer:<36-char id>:`), so prefix + this many U+10FFFF sorts after
 * every label that starts with prefix.
 */
const LABEL_RANGE_PAD = 320

/** Ciphertext or plaintext for `label`, and whether that write makes the row shared. */
function seal(ctx: StoreContext, id: string, label: string, content: string, held: number) {
  const encrypted = !isPublicLabel(label, ctx.publicPrefixes)
  const stored = encrypted ? ctx.vault.encrypt(id, content) : content
  const eligible = isGateEligible({ label, content: stored, origin_peer: null, held }, ctx.publicPrefixes)
  return { encrypted, stored, eligible }
}

/** A validated, sealed memory ready to insert: everything but the write itself. */
export interface PreparedMemory {
  id: string
  label: string
  plaintext: string
  stored: string
  encrypted: boolean
  eligible: boolean
  /** 1 when the scanner found a credential (then never eligible). */
  held: number
  /** 1 once the credential scan has read label and content (see scan-backfill.ts). */
  scanned: number
  warning?: string
  created_at: string
  updated_at: string
}

/** Validates and encrypts outside any transaction (bad input throws here, before any write). */
export function prepare(ctx: StoreContext, input: RememberInput, held = 0): PreparedMemory {
  const label = checkLabel(input?.label)
  const plaintext = checkContent(input?.content, ctx.maxContentBytes)
  const nowMs = ctx.clock.now()
  const { created_at, updated_at } = checkTimestamps(input ?? {}, nowMs)
  // The id is from now, not created_at: ids and seq both follow insertion order.
  const id = uuidv7(nowMs)
  return { id, label, plaintext, ...seal(ctx, id, label, plaintext, held), held, scanned: 0, created_at, updated_at }
}

/** Scans a prepared public memory; a credential makes it held (and so not eligible). */
async function scanPrepared(ctx: StoreContext, m: PreparedMemory): Promise<PreparedMemory> {
  if (m.encrypted) return m // private content never leaves the pod: nothing to hold back
  const findings = await ctx.scanner.scanMemory(m.label, m.plaintext)
  return findings.length === 0 ? { ...m, scanned: 1 } : { ...m, held: 1, scanned: 1, eligible: false, warning: heldWarning(findings) }
}

/**
 * Inserts one prepared memory with its full-text row; call inside ctx.write(). `at`: a change
 * sequence number the caller reserved (a batch reserves all of its own at once), and optionally
 * the caller writes the full-text row itself, after its other writes (`indexLater` gets the pk).
 */
export function insert(ctx: StoreContext, m: PreparedMemory, at?: { seq: number; indexLater?: (pk: number) => void }): RememberResult {
  const seq = at?.seq ?? ctx.nextSeq()
  // run() and its lastInsertRowid, not RETURNING pk: a row handed back as an object cost twice the insert (measured).
  const { lastInsertRowid } = ctx.db
    .query(
      `INSERT INTO memories (id, label, content, encrypted, created_at, updated_at, seq, shared, feed_seq, held, scanned)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(m.id, m.label, m.stored, m.encrypted ? 1 : 0, m.created_at, m.updated_at, seq, m.eligible ? 1 : 0, m.eligible ? seq : null, m.held, m.scanned)
  const pk = Number(lastInsertRowid)
  if (at?.indexLater) at.indexLater(pk)
  else ctx.index(pk, m.label, m.plaintext, m.encrypted)
  return { id: m.id, label: m.label, encrypted: m.encrypted, held: m.held !== 0, ...(m.warning ? { warning: m.warning } : {}) }
}

/**
 * Synchronous remember: no credential scan (the scanner is async). `held` is the caller's own
 * verdict; the pod's write paths (HTTP, MCP, CLI, import) use rememberGrouped, which scans.
 */
export function remember(ctx: StoreContext, input: RememberInput, opts: { held?: boolean } = {}): RememberResult {
  const m = prepare(ctx, input, opts.held ? 1 : 0)
  return ctx.write(() => insert(ctx, m))
}

/**
 * Group commit for concurrent writers (the HTTP API, MCP): calls made while the event loop is
 * busy are inserted together in ONE transaction, and each promise resolves only after that
 * transaction committed, so a 201 still means durable. The commit, not the insert, is most of a
 * single remember's cost. Bad input rejects at once and never joins a batch.
 */
export function createGroupRemember(ctx: StoreContext): (input: RememberInput) => Promise<RememberResult> {
  type Waiter = { scanned: Promise<PreparedMemory>; resolve: (r: RememberResult) => void; reject: (e: unknown) => void }
  let batch: Waiter[] = []
  const flush = async () => {
    const current = batch
    batch = []
    // Each scan started when its call arrived; a scan that fails fails its own call only.
    const settled = await Promise.allSettled(current.map((w) => w.scanned))
    const ready: { w: Waiter; m: PreparedMemory }[] = []
    settled.forEach((s, i) => (s.status === 'fulfilled' ? ready.push({ w: current[i]!, m: s.value }) : current[i]!.reject(s.reason)))
    let results: RememberResult[]
    try {
      results = ctx.write(() => {
        // The batch's sequence numbers in one reservation, in call order (one counter update, not one a row).
        const first = ready.length > 0 ? ctx.nextSeq(ready.length) : 0
        return ready.map(({ m }, i) => insert(ctx, m, { seq: first + i }))
      })
    } catch (err) {
      for (const { w } of ready) w.reject(err)
      return
    }
    ready.forEach(({ w }, i) => w.resolve(results[i]!))
  }
  return (input) =>
    new Promise((resolve, reject) => {
      const m = prepare(ctx, input) // throws → this promise rejects, alone
      // Joined to the batch before the (async) credential scan: scheduling the flush after an
      // awaited scan delayed it by milliseconds (measured), and calls arriving together still
      // commit together.
      if (batch.length === 0) setImmediate(flush)
      batch.push({ scanned: scanPrepared(ctx, m), resolve, reject })
    })
}

/**
 * Changes the label and/or content of one of our memories. A new label re-decides encryption;
 * a public memory re-labelled private reaches peers as a tombstone through the feed.
 * Returns null for unknown ids. Copies pulled from peers are read-only.
 */
export function update(ctx: StoreContext, id: string, patch: { label?: string; content?: string }, opts: { held?: boolean } = {}): Memory | null {
  const out = updateIfUnchanged(ctx, id, patch, opts)
  return out === 'stale' ? null : out
}

/**
 * update(), refusing to write ('stale') when the label and content the write would store are not
 * `opts.basis`: a credential verdict (`held`) reached on text read before an await belongs to
 * that text only, and is checked against the row inside the write transaction. `scannedAll`:
 * the verdict read label and content both (the row counts as scanned from now on).
 */
export function updateIfUnchanged(
  ctx: StoreContext,
  id: string,
  patch: { label?: string; content?: string },
  opts: { held?: boolean; basis?: { label: string; content: string }; scannedAll?: boolean } = {},
): Memory | null | 'stale' {
  if (patch?.label === undefined && patch?.content === undefined) throw new BadInput('nothing to update: give a label, content or both')
  const newLabel = patch.label === undefined ? undefined : checkLabel(patch.label)
  const newContent = patch.content === undefined ? undefined : checkContent(patch.content, ctx.maxContentBytes)
  const done = ctx.write(() => {
    const row = ctx.db.query('SELECT * FROM memories WHERE id = ? AND deleted = 0').get(id) as MemoryRow | null
    if (!row) return false
    if (row.origin_peer !== null) {
      throw new BadInput(`memory ${id} is a copy pulled from peer ${row.origin_peer}; copies are read-only, remember a new memory instead`)
    }
    const label = newLabel ?? row.label
    const content = newContent ?? ctx.toMemory(row).content
    if (opts.basis && (opts.basis.label !== label || opts.basis.content !== content)) return 'stale'
    // New text, or text that was private until now, counts as unscanned unless this write scanned it.
    const scanned = opts.scannedAll ? 1 : newContent === undefined && row.encrypted === 0 ? row.scanned : 0
    // The caller's scan verdict, else the row's own (a held memory stays held through edits).
    const held = opts.held === undefined ? row.held : opts.held ? 1 : 0
    const { encrypted, stored, eligible } = seal(ctx, id, label, content, held)
    const seq = ctx.nextSeq()
    // The feed position moves only when a peer has something to learn: the memory is served
    // (again), or it just left the gate and its tombstone goes out. Edits of a memory whose
    // tombstone already has its place send nothing more.
    const feedSeq = eligible || isGateEligible(row, ctx.publicPrefixes) ? seq : row.feed_seq
    ctx.db
      .query(
        `UPDATE memories SET label = ?, content = ?, encrypted = ?, updated_at = ?, seq = ?, shared = max(shared, ?), feed_seq = ?, held = ?, scanned = ?
         WHERE pk = ?`,
      )
      .run(label, stored, encrypted ? 1 : 0, ctx.nowIso(), seq, eligible ? 1 : 0, feedSeq, held, scanned, row.pk)
    ctx.unindex(row.pk)
    ctx.index(row.pk, label, content, encrypted)
    // Its plaintext may linger in full-text segments and the WAL: scrubbed at the next open.
    if (encrypted && !row.encrypted) markScrubPending(ctx)
    return true
  })
  if (done === 'stale') return 'stale'
  return done ? get(ctx, id) : null
}

export function get(ctx: StoreContext, id: string): Memory | null {
  const row = ctx.db.query('SELECT * FROM memories WHERE id = ? AND deleted = 0').get(id) as MemoryRow | null
  return row ? ctx.toMemory(row) : null
}

export function list(
  ctx: StoreContext,
  opts: { prefix?: string; limit?: number; cursor?: string | null; origin?: string | null },
): { memories: Memory[]; cursor: string | null } {
  const limit = checkInt(opts.limit ?? LIST_LIMIT_DEFAULT, 1, LIST_LIMIT_MAX, 'limit')
  const prefix = opts.prefix ?? ''
  const source = listSource(prefix, opts.origin)
  const where: string[] = []
  const params: (string | number)[] = []
  // Each source has its own partial index (migrations.ts); the WHERE terms name it.
  if (source === 'own') {
    where.push('origin_peer IS NULL AND deleted = 0')
  } else if (source === 'all') {
    where.push('deleted = 0')
  } else {
    where.push('origin_peer = ?') // copies are never tombstones
    params.push(source.peer)
  }
  if (prefix) {
    // A range over labels (LIKE would be case-insensitive and need escaping). Across own rows
    // and copies, seq order is walked instead (the unary + keeps SQLite off the label indexes).
    where.push(source === 'all' ? '+label >= ? AND +label < ?' : 'label >= ? AND label < ?')
    params.push(prefix, prefix + '\u{10FFFF}'.repeat(LABEL_RANGE_PAD))
  }
  if (opts.cursor) {
    where.push('seq < ?')
    params.push(parseSeqCursor(opts.cursor, 'cursor'))
  }
  // Own rows by prefix: SQLite would rather walk seq order; a narrow prefix then scans the whole
  // table. Pick and sort the page inside memories_own_label instead, then read only those rows.
  const sql =
    source === 'own' && prefix
      ? `SELECT * FROM memories WHERE pk IN (
           SELECT pk FROM memories INDEXED BY memories_own_label WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT ?
         ) ORDER BY seq DESC`
      : `SELECT * FROM memories WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT ?`
  const rows = ctx.db.query(sql).all(...params, limit + 1) as MemoryRow[]
  const more = rows.length > limit
  if (more) rows.pop()
  return { memories: rows.map((r) => ctx.toMemory(r)), cursor: more ? String(rows[rows.length - 1]!.seq) : null }
}

/** Which rows list() must look at: our own, one peer's copies, or all. Own labels never start with `peer:`. */
function listSource(prefix: string, origin: string | null | undefined): 'own' | 'all' | { peer: string } {
  if (origin === 'local') return 'own'
  if (origin) return { peer: origin }
  const peer = PEER_PREFIX_LABEL.exec(prefix)?.[1]
  if (peer) return { peer }
  const mayBeCopy = prefix.startsWith(PEER_LABEL_PREFIX) || PEER_LABEL_PREFIX.startsWith(prefix)
  return mayBeCopy ? 'all' : 'own'
}

/**
 * Deletes a memory. One that was ever shared stays as a tombstone (empty label and content) so
 * peers holding a copy learn to drop it; any other is deleted outright.
 */
export function forget(ctx: StoreContext, id: string): boolean {
  return ctx.write(() => {
    const row = ctx.db.query('SELECT * FROM memories WHERE id = ? AND deleted = 0').get(id) as MemoryRow | null
    if (!row) return false
    if (row.shared) {
      // Served now: the tombstone takes a new feed position. Private now: its tombstone already
      // has one (peers that pulled past it dropped their copy), so the delete sends nothing.
      const seq = ctx.nextSeq()
      const feedSeq = isGateEligible(row, ctx.publicPrefixes) ? seq : row.feed_seq
      ctx.db
        .query(`UPDATE memories SET label = '', content = '', encrypted = 0, deleted = 1, updated_at = ?, seq = ?, feed_seq = ? WHERE pk = ?`)
        .run(ctx.nowIso(), seq, feedSeq, row.pk)
      ctx.unindex(row.pk)
    } else {
      ctx.db.query('DELETE FROM memories WHERE pk = ?').run(row.pk) // the trigger drops the index row
    }
    return true
  })
}
