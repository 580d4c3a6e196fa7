/**
 * Recall: full-text search over own memories and peer copies alike. The query is tokenized like
 * the indexed text (blind-index.ts); each word is searched both as itself (public text, labels)
 * and as its blind token (private text), OR-ed, ranked by bm25 with labels weighted double.
 */
import type { MemoryRow, StoreContext } from './_context'
import { tokenize, type BlindIndex } from './blind-index'
import { checkInt } from './schemas'
import type { RecallHit } from './types'

export const RECALL_K_DEFAULT = 10
export const RECALL_K_MAX = 100
/** More distinct words than this add cost without changing the top hits much. */
export const RECALL_MAX_TERMS = 32

/** FTS5 string literal: every term is quoted, so no query text is ever read as FTS syntax. */
const quote = (term: string) => `"${term.replaceAll('"', '""')}"`

/** The MATCH expression for `query`, or null when it holds no words. */
export function matchExpression(query: string, blind: BlindIndex): string | null {
  const words = [...new Set(tokenize(query))].slice(0, RECALL_MAX_TERMS)
  if (words.length === 0) return null
  return words.map((w) => `${quote(w)} OR ${quote(blind.blind(w))}`).join(' OR ')
}

export function recall(ctx: StoreContext, query: string, k: number = RECALL_K_DEFAULT): RecallHit[] {
  checkInt(k, 1, RECALL_K_MAX, 'k')
  const expr = matchExpression(String(query ?? ''), ctx.blind)
  if (expr === null) return []
  // Rank inside the FTS query and join only the top k rows back to memories.
  const rows = ctx.db
    .query(
      `SELECT m.*, f.score AS score
       FROM (SELECT rowid, bm25(memories_fts, 2.0, 1.0) AS score
             FROM memories_fts WHERE memories_fts MATCH ? ORDER BY score LIMIT ?) AS f
       JOIN memories AS m ON m.pk = f.rowid
       ORDER BY f.score`,
    )
    .all(expr, k) as (MemoryRow & { score: number })[]
  return rows.map((row) => {
    const m = ctx.toMemory(row)
    // bm25() is lower-is-better; the API says higher-is-better.
    return { id: m.id, label: m.label, content: m.content, score: -row.score, peer: row.origin_peer }
  })
}
