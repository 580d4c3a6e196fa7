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

/** Is a memory with this label and content ours already? Decrypts only rows under the same label. */
function presentCheck(ctx: StoreContext): (label: string, content: string) => boolean {
  // Named: left to itself SQLite walks memories_own (every own row) for each lookup, which made a
  // 20,000-line import take a minute of CPU.
  const sameLabel = ctx.db.query(
    'SELECT id, content, encrypted FROM memories INDEXED BY memories_own_label WHERE label = ? AND origin_peer IS NULL AND deleted = 0',
  )
  return (label, content) => {
    const rows = sameLabel.all(label) as { id: string; content: string; encrypted: number }[]
    return rows.some((r) => (r.encrypted ? ctx.vault.decrypt(r.id, r.content) : r.content) === content)
  }
}

const failed = (err: unknown): ImportOutcome => {
  if (err instanceof PodError) return { status: 'failed', message: err.message }
  throw err
}

/**
 * Imports `inputs` (at most IMPORT_BATCH_MAX) and says what became of each, in order.
 * `dryRun`: only whether each is already present; nothing is checked further or written.
 */
export async function importMemories(ctx: StoreContext, inputs: readonly RememberInput[], opts: { dryRun?: boolean } = {}): Promise<ImportOutcome[]> {
  if (inputs.length > IMPORT_BATCH_MAX) throw new PodError('bad_input', `at most ${IMPORT_BATCH_MAX} memories per import batch`)
  const present = presentCheck(ctx)
  const out: ImportOutcome[] = new Array(inputs.length)
  const inBatch = new Set<string>()
  const todo: { i: number; m: PreparedMemory }[] = []
  inputs.forEach((input, i) => {
    const key = `${input.label}\u0000${input.content}`
    if (inBatch.has(key) || present(input.label, input.content)) {
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
  const verdicts = await scanMemories(open.map((t) => ({ label: t.m.label, content: t.m.plaintext })))
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
    for (const { i, m } of todo) {
      if (present(m.label, m.plaintext)) out[i] = { status: 'present' }
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
