/**
 * The operator may change `public_prefixes` in pod.toml; the label decides encryption, so at open
 * every own memory is brought in line with the prefixes now in force:
 * - label no longer public: content re-encrypted with the vault (memory id as AAD), full-text row
 *   replaced by blind tokens, and, if it was served, a new feed position so peers get its
 *   tombstone; the old plaintext is scrubbed off the disk (scrub.ts).
 * - label now public: the operator added the prefix to share these, so they are decrypted,
 *   plainly indexed and served, exactly as if remembered under that label today.
 * Rows are converted in batches of their own transaction; each batch re-checks its rows, so a
 * crash half-way leaves a consistent store and the next open finishes the job. The prefixes are
 * recorded (meta) only once every batch is done.
 */
import type { Logger } from '../lib/log'
import type { MemoryRow, StoreContext } from './_context'
import { isGateEligible, isPublicLabel } from './gate'
import { markScrubPending } from './scrub'
import { VAULT_PREFIX } from './vault'

const PREFIXES_META_KEY = 'public_prefixes'
/** Rows per transaction: short enough to log progress on a big store, long enough to be cheap. */
export const RECONCILE_BATCH_ROWS = 500
/** A progress line at most every this many rows (about a second of work). */
export const RECONCILE_PROGRESS_ROWS = 5000

export interface ReconcileOptions {
  log?: Logger
  batchRows?: number
  progressRows?: number
  /** Called after each committed batch (tests use it to stop half-way, as a crash would). */
  afterBatch?: (done: number, total: number) => void
}

export interface ReconcileResult {
  madePrivate: number
  madePublic: number
}

export function reconcilePrefixes(ctx: StoreContext, opts: ReconcileOptions = {}): ReconcileResult {
  const result: ReconcileResult = { madePrivate: 0, madePublic: 0 }
  const current = JSON.stringify(ctx.publicPrefixes)
  const stored = (ctx.db.query('SELECT value FROM meta WHERE key = ?').get(PREFIXES_META_KEY) as { value: string } | null)?.value
  if (stored === current) return result

  // Own live rows whose encryption disagrees with the prefixes now in force.
  const mismatched = (
    ctx.db.query('SELECT pk, label, encrypted FROM memories WHERE origin_peer IS NULL AND deleted = 0').all() as Pick<MemoryRow, 'pk' | 'label' | 'encrypted'>[]
  )
    .filter((r) => needsChange(ctx, r))
    .map((r) => r.pk)
  const batchRows = opts.batchRows ?? RECONCILE_BATCH_ROWS
  const progressRows = opts.progressRows ?? RECONCILE_PROGRESS_ROWS
  const total = mismatched.length
  const started = performance.now()
  const select = ctx.db.query('SELECT * FROM memories WHERE pk = ? AND origin_peer IS NULL AND deleted = 0')
  for (let i = 0; i < mismatched.length; i += batchRows) {
    ctx.write(() => {
      for (const pk of mismatched.slice(i, i + batchRows)) {
        const row = select.get(pk) as MemoryRow | null
        // Re-checked inside the transaction: another connection may have changed it meanwhile.
        if (!row || !needsChange(ctx, row)) continue
        if (row.encrypted) {
          makePublic(ctx, row)
          result.madePublic++
        } else {
          makePrivate(ctx, row)
          result.madePrivate++
        }
      }
    })
    const done = Math.min(i + batchRows, total)
    if (total > progressRows && (Math.floor(done / progressRows) > Math.floor(i / progressRows) || done === total)) {
      opts.log?.info({ op: 'reconcile', count: done, msg: `public_prefixes changed: ${done} of ${total} memories converted` })
    }
    opts.afterBatch?.(done, total)
  }
  ctx.write(() => {
    ctx.db.query('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(PREFIXES_META_KEY, current)
  })
  if (total > 0) {
    opts.log?.info({
      op: 'reconcile',
      count: result.madePrivate + result.madePublic,
      ms: Math.round(performance.now() - started),
      msg: `public_prefixes changed: ${result.madePrivate} memories made private (re-encrypted, tombstoned to peers), ${result.madePublic} made public (decrypted, shared)`,
    })
  }
  return result
}

function needsChange(ctx: StoreContext, r: Pick<MemoryRow, 'label' | 'encrypted'>): boolean {
  return (r.encrypted === 1) === isPublicLabel(r.label, ctx.publicPrefixes)
}

function makePrivate(ctx: StoreContext, row: MemoryRow): void {
  const plaintext = row.content
  // It was served in full (so peers may hold a copy) unless its plaintext looked like ciphertext.
  const served = row.shared === 1 && !plaintext.startsWith(VAULT_PREFIX)
  const feedSeq = served ? ctx.nextSeq() : row.feed_seq
  ctx.db.query('UPDATE memories SET content = ?, encrypted = 1, feed_seq = ? WHERE pk = ?').run(ctx.vault.encrypt(row.id, plaintext), feedSeq, row.pk)
  ctx.unindex(row.pk)
  ctx.index(row.pk, row.label, plaintext, true)
  markScrubPending(ctx)
}

function makePublic(ctx: StoreContext, row: MemoryRow): void {
  const plaintext = ctx.vault.decrypt(row.id, row.content)
  // Not scanned for credentials yet (the scanner is async): held (2) until settleUnscanned()
  // (secret-holds.ts) has looked at it, which then gives it a feed position if clear.
  const held = 2
  const eligible = isGateEligible({ label: row.label, content: plaintext, origin_peer: null, held }, ctx.publicPrefixes)
  ctx.db
    .query('UPDATE memories SET content = ?, encrypted = 0, shared = max(shared, ?), feed_seq = ?, held = ? WHERE pk = ?')
    .run(plaintext, eligible ? 1 : 0, eligible ? ctx.nextSeq() : row.feed_seq, held, row.pk)
  ctx.unindex(row.pk)
  ctx.index(row.pk, row.label, plaintext, false)
}
