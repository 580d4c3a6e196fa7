/**
 * Many own memories at once (`mazemaker import`): the same checks, vault, blind index, full-text
 * rows and credential verdict as a single remember, in one transaction per batch and with the
 * scanner run once over the batch (secret-scan-batch.ts). A memory already here (same label and
 * content, own and not deleted), or earlier in the same batch, is skipped: importing twice adds
 * nothing. A line with a problem fails alone, with the message a single remember would give.
 */
import { PodError } from '../lib/errors'
import type { StoreContext } from './_context'
import { insert, prepare, type PreparedMemory } from './local-memories'
import { scanMemories } from './secret-scan-batch'
import { heldWarning } from './secret-scan'
import type { ImportOutcome, RememberInput } from './types'

/** Most memories in one import batch (one transaction): about 50 ms of work at the batch's end. */
export const IMPORT_BATCH_MAX = 1000

/** What is ours already under some labels: label → contents (decrypted), own and not deleted. */
type Present = Map<string, Set<string>>

const ownRow = 'SELECT label, id, content, encrypted FROM memories'

function addRows(ctx: StoreContext, present: Present, rows: { label: string; id: string; content: string; encrypted: number }[], labels?: Set<string>) {
  for (const r of rows) {
    if (labels && !labels.has(r.label)) continue
    let contents = present.get(r.label)
    if (!contents) present.set(r.label, (contents = new Set()))
    contents.add(r.encrypted ? ctx.vault.decrypt(r.id, r.content) : r.content)
  }
}

/**
 * The batch's labels looked up in one query (a lookup per memory was a fifth of an import's CPU),
 * with the change sequence it saw: whatever was written later has a higher seq (see stillPresent).
 */
function presentNow(ctx: StoreContext, labels: Set<string>): { present: Present; seq: number } {
  // Read first: a row committed after this read shows up in stillPresent(), one before it in the lookup.
  const { value: seq } = ctx.db.query('SELECT value FROM change_seq WHERE one = 1').get() as { value: number }
  const present: Present = new Map()
  // Named: left to itself SQLite walks memories_own (every own row) for the lookup.
  const rows = ctx.db
    .query(`${ownRow} INDEXED BY memories_own_label WHERE label IN (SELECT value FROM json_each(?)) AND origin_peer IS NULL AND deleted = 0`)
    .all(JSON.stringify([...labels])) as { label: string; id: string; content: string; encrypted: number }[]
  addRows(ctx, present, rows)
  return { present, seq }
}

/**
 * Inside the write: adds what another import (or remember, or update) stored since presentNow()
 * read the change sequence. Usually nothing, found by one range read of memories_own.
 */
function stillPresent(ctx: StoreContext, seen: { present: Present; seq: number }, labels: Set<string>): void {
  const rows = ctx.db.query(`${ownRow} INDEXED BY memories_own WHERE deleted = 0 AND seq > ? AND origin_peer IS NULL`).all(seen.seq) as {
    label: string
    id: string
    content: string
    encrypted: number
  }[]
  addRows(ctx, seen.present, rows, labels)
}

const has = (present: Present, label: string, content: string) => present.get(label)?.has(content) === true

/**
 * The memory as SQLite will hand it back: text is stored as UTF-8, where a lone surrogate becomes
 * U+FFFD, so a line holding one compares equal to its stored self (and is not imported twice).
 */
const asStored = (m: RememberInput): RememberInput =>
  typeof m?.label !== 'string' || typeof m.content !== 'string' || (m.label.isWellFormed() && m.content.isWellFormed())
    ? m
    : { ...m, label: m.label.toWellFormed(), content: m.content.toWellFormed() }

const failed = (err: unknown): ImportOutcome => {
  if (err instanceof PodError) return { status: 'failed', message: err.message }
  throw err
}

/**
 * Imports `inputs` (at most IMPORT_BATCH_MAX) and says what became of each, in order.
 * `dryRun`: only whether each is already present; nothing is checked further or written.
 */
export async function importMemories(ctx: StoreContext, given: readonly RememberInput[], opts: { dryRun?: boolean } = {}): Promise<ImportOutcome[]> {
  if (given.length > IMPORT_BATCH_MAX) throw new PodError('bad_input', `at most ${IMPORT_BATCH_MAX} memories per import batch`)
  const inputs = given.map(asStored)
  const labels = new Set(inputs.map((m) => m.label))
  const seen = presentNow(ctx, labels)
  const out: ImportOutcome[] = new Array(inputs.length)
  const inBatch = new Set<string>()
  const todo: { i: number; m: PreparedMemory }[] = []
  inputs.forEach((input, i) => {
    const key = `${input.label}\u0000${input.content}`
    if (inBatch.has(key) || has(seen.present, input.label, input.content)) {
      out[i] = { status: 'present' }
      return
    }
    inBatch.add(key)
    if (opts.dryRun) {
      out[i] = { status: 'imported', id: '', held: false }
      return
    }
    try {
      todo.push({ i, m: prepare(ctx, input) }) // validates, and encrypts a private one
    } catch (err) {
      out[i] = failed(err)
    }
  })
  if (opts.dryRun || todo.length === 0) return out
  // Only public memories reach peers; private content is never scanned (as on remember).
  const open = todo.filter((t) => !t.m.encrypted)
  const verdicts = await scanMemories(
    ctx.scanner,
    open.map((t) => ({ label: t.m.label, content: t.m.plaintext })),
  )
  open.forEach((t, k) => {
    const findings = verdicts[k]!
    t.m = findings.length === 0 ? { ...t.m, scanned: 1 } : { ...t.m, held: 1, scanned: 1, eligible: false, warning: heldWarning(findings) }
  })
  const blindCache = new Map<string, string>()
  ctx.write(() => {
    // One counter update for the batch; numbers of memories found present meanwhile stay unused (gaps are fine).
    let seq = ctx.nextSeq(todo.length)
    const toIndex: { pk: number; m: PreparedMemory }[] = []
    // Again inside the write: another import (or remember) may have stored one since the check.
    stillPresent(ctx, seen, labels)
    for (const { i, m } of todo) {
      if (has(seen.present, m.label, m.plaintext)) out[i] = { status: 'present' }
      else {
        const r = insert(ctx, m, { seq: seq++, indexLater: (pk) => toIndex.push({ pk, m }) })
        out[i] = { status: 'imported', id: r.id, held: r.held }
      }
    }
    // The full-text rows after every other write: FTS5 flushes its pending rows as a new segment
    // whenever another statement writes, so rows written between the inserts cost a segment each.
    for (const { pk, m } of toIndex) ctx.index(pk, m.label, m.plaintext, m.encrypted, blindCache)
  })
  return out
}
