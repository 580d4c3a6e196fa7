/**
 * Recall: full-text search over own memories and peer copies alike. The query is tokenized like
 * the indexed text (blind-index.ts); each word is searched both as itself (public text, labels)
 * and as its blind token (private text), OR-ed, ranked by bm25 with labels weighted double.
 *
 * bm25 costs about half a microsecond per matching row, so a query made of common words would
 * score most of the table. Above RECALL_SCORE_BUDGET_ROWS matches the plan narrows the candidates
 * (see planMatch) while the score still counts every query word.
 */
import type { MemoryRow, StoreContext } from './_context'
import { tokenize, type BlindIndex } from './blind-index'
import { checkInt } from './schemas'
import type { RecallHit } from './types'

export const RECALL_K_DEFAULT = 10
export const RECALL_K_MAX = 100
/** More distinct words than this add cost without changing the top hits much. */
export const RECALL_MAX_WORDS = 32
/** Matches scored exactly; beyond this the candidates are narrowed (≈ 2.5 ms of bm25). */
export const RECALL_SCORE_BUDGET_ROWS = 5000

/** FTS5 string literal: every term is quoted, so no query text is ever read as FTS syntax. */
const quote = (term: string) => `"${term.replaceAll('"', '""')}"`

/** The quoted FTS terms for `query`: each distinct word, plain and blind. Empty when it holds no words. */
export function queryTerms(query: string, blind: BlindIndex): string[] {
  const words = [...new Set(tokenize(query))].slice(0, RECALL_MAX_WORDS)
  return words.flatMap((w) => [quote(w), quote(blind.blind(w))])
}

interface MatchPlan {
  match: string
  /** Only rows with rowid ≥ this are scored (null: all). */
  minRowid: number | null
}

/**
 * - Few matches (the usual case): score them all.
 * - Otherwise, when some words are selective (together ≤ budget matches), rows matching one of
 *   them are the candidates: `(selective) AND (all terms)`. bm25 still counts every term, the
 *   selective ones twice (they appear twice in the expression), which only sharpens what rare
 *   words already dominate. A row matching only common words is left out.
 * - Only common words: score the newest `budget` matching rows (common words carry almost no
 *   bm25 weight, so recency is the better tie-break than scanning everything).
 */
function planMatch(ctx: StoreContext, terms: string[]): MatchPlan {
  const budget = RECALL_SCORE_BUDGET_ROWS
  const all = terms.join(' OR ')
  // The (budget+1)-th newest match: none means few enough matches to score them all.
  const edge = ctx.db
    .query('SELECT rowid FROM memories_fts WHERE memories_fts MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?')
    .get(all, budget) as { rowid: number } | null
  if (edge === null) return { match: all, minRowid: null }

  const capped = ctx.db.query('SELECT count(*) AS n FROM (SELECT 1 FROM memories_fts WHERE memories_fts MATCH ? LIMIT ?)')
  const byCount = terms.map((t) => ({ t, n: (capped.get(t, budget + 1) as { n: number }).n })).sort((a, b) => a.n - b.n)
  const selective: string[] = []
  let total = 0
  for (const { t, n } of byCount) {
    if (total + n > budget) break
    selective.push(t)
    total += n
  }
  if (selective.length > 0) return { match: `(${selective.join(' OR ')}) AND (${all})`, minRowid: null }
  return { match: all, minRowid: edge.rowid + 1 }
}

export function recall(ctx: StoreContext, query: string, k: number = RECALL_K_DEFAULT): RecallHit[] {
  checkInt(k, 1, RECALL_K_MAX, 'k')
  const terms = queryTerms(String(query ?? ''), ctx.blind)
  if (terms.length === 0) return []
  const plan = planMatch(ctx, terms)
  // Rank inside the FTS query and join only the top k rows back to memories.
  const rows = ctx.db
    .query(
      `SELECT m.*, f.score AS score
       FROM (SELECT rowid, bm25(memories_fts, 2.0, 1.0) AS score
             FROM memories_fts WHERE memories_fts MATCH ? AND rowid >= ? ORDER BY score LIMIT ?) AS f
       JOIN memories AS m ON m.pk = f.rowid
       ORDER BY f.score`,
    )
    .all(plan.match, plan.minRowid ?? 0, k) as (MemoryRow & { score: number })[]
  return rows.map((row) => {
    const m = ctx.toMemory(row)
    // bm25() is lower-is-better; the API says higher-is-better.
    return { id: m.id, label: m.label, content: m.content, score: -row.score, peer: row.origin_peer }
  })
}
