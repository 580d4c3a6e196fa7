/**
 * Secret holds: a public memory whose label or content looks like a credential (secret-scan.ts) is
 * `held` and the gate serves it to no peer until the operator releases it. Here: the scanning
 * update, the list of held memories, release, and settling memories made public at open (held = 2,
 * "not scanned yet") once the async scanner has looked at them. A memory that becomes held after
 * it was served leaves the gate, so the feed sends peers its tombstone (local-memories.ts update).
 */
import { BadInput, Conflict } from '../lib/errors'
import type { Logger } from '../lib/log'
import { BACKGROUND_TURN_MS, turnEvery } from '../lib/next-turn'
import type { MemoryRow, StoreContext } from './_context'
import { isGateEligible, isPublicLabel } from './gate'
import { get, update, updateIfUnchanged } from './local-memories'
import { checkContent, checkInt, checkLabel } from './schemas'
import { heldWarning, type SecretFinding } from './secret-scan'
import type { Memory } from './types'

export const HELD_LIMIT_MAX = 500

/** How often updateScanned scans again when edits keep landing while it scans. */
const SCAN_ATTEMPTS = 5

/**
 * update() with the credential scan of label and content: text that is public after the edit is
 * scanned when the content changed, when the label just made it public, or when it was never
 * scanned. A label-only edit of a public memory scans the new label only and otherwise keeps
 * the verdict (a released memory stays released unless its new label looks like a credential).
 * Private content is not scanned: it never leaves the pod.
 *
 * The scan awaits, and another edit may land meanwhile: the verdict is written only if the
 * label and content it was reached on are still what the write stores (checked inside the write
 * transaction); otherwise the row is read and scanned again.
 */
export async function updateScanned(
  ctx: StoreContext,
  id: string,
  patch: { label?: string; content?: string },
): Promise<(Memory & { warning?: string }) | null> {
  if (patch?.label === undefined && patch?.content === undefined) throw new BadInput('nothing to update: give a label, content or both')
  const label = patch.label === undefined ? undefined : checkLabel(patch.label)
  const content = patch.content === undefined ? undefined : checkContent(patch.content, ctx.maxContentBytes)
  for (let attempt = 0; attempt < SCAN_ATTEMPTS; attempt++) {
    const row = ctx.db.query('SELECT * FROM memories WHERE id = ? AND deleted = 0').get(id) as MemoryRow | null
    if (!row) return null
    const nextLabel = label ?? row.label
    // Nothing awaits on this path: the write follows the read in the same turn.
    if (!isPublicLabel(nextLabel, ctx.publicPrefixes)) return update(ctx, id, { label, content }, { held: false })
    const nextContent = content ?? ctx.toMemory(row).content
    let findings: SecretFinding[]
    let held: boolean | undefined
    const scanAll = content !== undefined || row.encrypted === 1 || row.held === 2 || row.scanned === 0
    if (scanAll) {
      findings = await ctx.scanner.scanMemory(nextLabel, nextContent)
      held = findings.length > 0
    } else if (label !== undefined && label !== row.label) {
      findings = await ctx.scanner.scanText(label)
      held = findings.length > 0 ? true : undefined
    } else {
      return update(ctx, id, { label, content })
    }
    const memory = updateIfUnchanged(ctx, id, { label, content }, { held, basis: { label: nextLabel, content: nextContent }, scannedAll: scanAll })
    if (memory === 'stale') continue
    return memory && findings.length > 0 ? { ...memory, warning: heldWarning(findings) } : memory
  }
  throw new Conflict(`memory ${id} kept changing while its edit was scanned for credentials; try the edit again`)
}

/**
 * Our own held memories. Each read names memories_held (held != 0): left to choose, SQLite walks
 * memories_own (deleted = 0), every own memory, to find the few held ones. On 200k own memories
 * with 40 held that was 60-100 ms per listHeld, heldCount (the share preview) or settle batch.
 */
const HELD = 'held != 0 AND deleted = 0 AND origin_peer IS NULL'
/**
 * The page is picked by seq and pk alone, then only its rows are read: just after a prefix was
 * added (100k memories held = 2 until settled), sorting whole rows took 300 ms, this 100 ms.
 */
export const HELD_PAGE = `SELECT * FROM memories WHERE pk IN (
  SELECT pk FROM memories INDEXED BY memories_held WHERE ${HELD} ORDER BY seq DESC LIMIT ?
) ORDER BY seq DESC`
export const HELD_COUNT = `SELECT count(*) AS n FROM memories INDEXED BY memories_held WHERE ${HELD}`
/**
 * held != 0 as well: SQLite does not infer the index's condition from held = 2. Settling 100k
 * memories that a new prefix made public took 71 s of CPU when each batch walked and sorted every
 * own memory, 9 s this way.
 */
export const UNSETTLED_BATCH = `SELECT * FROM memories INDEXED BY memories_held WHERE held = 2 AND ${HELD} ORDER BY pk LIMIT 100`

/** Our own held memories, newest first (held = 2: made public at open, scan pending). */
export function listHeld(ctx: StoreContext, limit = 100): Memory[] {
  checkInt(limit, 1, HELD_LIMIT_MAX, 'limit')
  const rows = ctx.db.query(HELD_PAGE).all(limit) as MemoryRow[]
  return rows.map((r) => ctx.toMemory(r))
}

export function heldCount(ctx: StoreContext): number {
  return (ctx.db.query(HELD_COUNT).get() as { n: number }).n
}

/**
 * The operator releases a held memory: it becomes servable (if its label is public) and takes a
 * new feed position, so peers receive it at their next pull. null for unknown ids; releasing a
 * memory that is not held changes nothing.
 */
export function release(ctx: StoreContext, id: string): Memory | null {
  const done = ctx.write(() => {
    const row = ctx.db.query('SELECT * FROM memories WHERE id = ? AND deleted = 0').get(id) as MemoryRow | null
    if (!row) return false
    if (row.origin_peer !== null) throw new BadInput(`memory ${id} is a copy pulled from peer ${row.origin_peer}; only your own memories are held`)
    if (row.held === 0) return true
    clearHold(ctx, row)
    return true
  })
  return done ? get(ctx, id) : null
}

/** held → 0; a memory the gate now serves gets a new feed position. Call inside write(). */
function clearHold(ctx: StoreContext, row: MemoryRow): void {
  const eligible = isGateEligible({ ...row, held: 0 }, ctx.publicPrefixes)
  ctx.db
    .query('UPDATE memories SET held = 0, shared = max(shared, ?), feed_seq = ? WHERE pk = ?')
    .run(eligible ? 1 : 0, eligible ? ctx.nextSeq() : row.feed_seq, row.pk)
}

/**
 * Scans memories made public at open (held = 2) and settles each: clear (served from now on) or
 * held (= 1, waits for the operator). Runs in the background after open; returns how many it held.
 */
export async function settleUnscanned(ctx: StoreContext, log?: Logger, signal?: AbortSignal): Promise<{ scanned: number; held: number }> {
  const out = { scanned: 0, held: 0 }
  const letRequestsIn = turnEvery(BACKGROUND_TURN_MS, () => ctx.clock.now())
  while (!signal?.aborted) {
    const rows = ctx.db.query(UNSETTLED_BATCH).all() as MemoryRow[]
    if (rows.length === 0) break
    for (const scanned of rows) {
      const findings = await ctx.scanner.scanMemory(scanned.label, ctx.toMemory(scanned).content)
      if (signal?.aborted) break // the store is closing
      ctx.write(() => {
        // Re-read: an edit in between may have settled it already (updateScanned scans held = 2).
        const row = ctx.db.query('SELECT * FROM memories WHERE pk = ? AND held = 2 AND deleted = 0').get(scanned.pk) as MemoryRow | null
        if (!row || row.content !== scanned.content || row.label !== scanned.label) return
        if (findings.length > 0) {
          ctx.db.query('UPDATE memories SET held = 1, scanned = 1 WHERE pk = ?').run(row.pk)
          out.held++
        } else {
          ctx.db.query('UPDATE memories SET scanned = 1 WHERE pk = ?').run(row.pk)
          clearHold(ctx, row)
        }
      })
      out.scanned++
    }
    await letRequestsIn() // the scanner answers in microtasks: without this the pod answers nothing until the end
  }
  if (out.held > 0)
    log?.warn({ op: 'secret_scan', count: out.held, msg: 'memories made public look like credentials; held back from peers (see: mazemaker memory held)' })
  return out
}
