/**
 * Recall: full-text search over own memories and peer copies alike. The query is tokenized like
 * the indexed text (blind-index.ts); each word is searched both as itself (public text, labels)
 * and as its blind token (private text), OR-ed, ranked by bm25 with labels weighted double.
 *
 * bm25 costs about half a microsecond per matching row, so a query made of common words would
 * score most of the table; above RECALL_SCORE_BUDGET_ROWS matches topRows() narrows the rows it
 * scores.
 *
 * The score shown is not raw bm25: in a small store every word's IDF is clamped to ~0, so bm25
 * says 0.00 for a perfect match. It is 0.7 × the share of query words the memory contains (label
 * or content) + 0.3 × its bm25 relative to the best hit: 1.00 is every word and the best match,
 * at any store size; results are ordered by it.
 */
import type { MemoryRow, StoreContext } from './_context'
import { tokenize, type BlindIndex } from './blind-index'
import { checkInt } from './schemas'
import { indexAllPending } from './copy-index'
import type { RecallHit } from './types'

export const RECALL_K_DEFAULT = 10
export const RECALL_K_MAX = 100
/** More distinct words than this add cost without changing the top hits much. */
export const RECALL_MAX_WORDS = 32
/** Matching rows scored per query part (about 1 ms of bm25 each); see topRows. */
export const RECALL_SCORE_BUDGET_ROWS = 2000

/** FTS5 string literal: every term is quoted, so no query text is ever read as FTS syntax. */
const quote = (term: string) => `"${term.replaceAll('"', '""')}"`

/** Per distinct query word, its FTS terms OR-ed: the word itself and its blind token. */
export function queryWords(query: string, blind: BlindIndex): string[] {
  const words = [...new Set(tokenize(query))].slice(0, RECALL_MAX_WORDS)
  return words.map((w) => `${quote(w)} OR ${quote(blind.blind(w))}`)
}

type ScoredRow = MemoryRow & { score: number }

/**
 * The top `k` rows for `words`, best first.
 * - At most `budget` matching rows (the usual case): all of them are scored.
 * - More: the newest `budget` matching rows are scored on every word, and so are all rows
 *   matching the selective words (those with the fewest matches, together at most `budget`),
 *   these on the selective words alone. bm25 is a sum over terms with per-term weights from the
 *   whole index, so the second score is the first minus the common words' share: rare words,
 *   which carry the score, are never missed, and only old rows matching nothing but common
 *   words (which weigh little) are left out.
 */
function topRows(ctx: StoreContext, words: string[], k: number): ScoredRow[] {
  const budget = RECALL_SCORE_BUDGET_ROWS
  const all = words.map((w) => `(${w})`).join(' OR ')
  const edge = ctx.db.query('SELECT rowid FROM memories_fts WHERE memories_fts MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?').get(all, budget) as {
    rowid: number
  } | null
  if (edge === null) return scored(ctx, all, 0, k)

  const capped = ctx.db.query('SELECT count(*) AS n FROM (SELECT 1 FROM memories_fts WHERE memories_fts MATCH ? LIMIT ?)')
  const byCount = words.map((w) => ({ w, n: (capped.get(w, budget + 1) as { n: number }).n })).sort((a, b) => a.n - b.n)
  const selective: string[] = []
  let total = 0
  for (const { w, n } of byCount) {
    if (total + n > budget) break
    selective.push(`(${w})`)
    total += n
  }
  const best = new Map<number, ScoredRow>()
  for (const r of scored(ctx, all, edge.rowid + 1, k)) best.set(r.pk, r)
  if (selective.length > 0) {
    for (const r of scored(ctx, selective.join(' OR '), 0, k)) {
      const seen = best.get(r.pk)
      if (!seen || seen.score > r.score) best.set(r.pk, r)
    }
  }
  return [...best.values()].sort((a, b) => a.score - b.score).slice(0, k)
}

/** Rows matching `match` with rowid ≥ minRowid, best k by bm25 (labels weigh double). */
function scored(ctx: StoreContext, match: string, minRowid: number, k: number): ScoredRow[] {
  // Rank inside the FTS query and join only the top k rows back to memories.
  return ctx.db
    .query(
      `SELECT m.*, f.score AS score
       FROM (SELECT rowid, bm25(memories_fts, 2.0, 1.0) AS score
             FROM memories_fts WHERE memories_fts MATCH ? AND rowid >= ? ORDER BY score LIMIT ?) AS f
       JOIN memories AS m ON m.pk = f.rowid
       ORDER BY f.score`,
    )
    .all(match, minRowid, k) as ScoredRow[]
}

export function recall(ctx: StoreContext, query: string, k: number = RECALL_K_DEFAULT): RecallHit[] {
  checkInt(k, 1, RECALL_K_MAX, 'k')
  const words = queryWords(String(query ?? ''), ctx.blind)
  if (words.length === 0) return []
  indexAllPending(ctx) // copies pulled moments ago may still wait for their full-text rows
  const rows = topRows(ctx, words, k)
  const queryTokens = [...new Set(tokenize(String(query ?? '')))].slice(0, RECALL_MAX_WORDS)
  // bm25() is lower-is-better (negative); the best hit has the most negative score.
  const best = Math.min(...rows.map((r) => r.score))
  return rows
    .map((row) => {
      const m = ctx.toMemory(row)
      const has = new Set(tokenize(`${m.label} ${m.content}`))
      const coverage = queryTokens.filter((t) => has.has(t)).length / queryTokens.length
      const relative = best < 0 ? row.score / best : 1
      const score = Math.round((COVERAGE_WEIGHT * coverage + (1 - COVERAGE_WEIGHT) * relative) * 10_000) / 10_000
      return { hit: { id: m.id, label: m.label, content: m.content, score, peer: row.origin_peer, encrypted: m.encrypted }, bm25: row.score }
    })
    .sort((a, b) => b.hit.score - a.hit.score || a.bm25 - b.bm25)
    .map((x) => x.hit)
}

/** Share of the shown score that comes from how many query words a memory contains. */
const COVERAGE_WEIGHT = 0.7
