/**
 * The memory an agent should start a session with: what recall finds for the project's own
 * words, then the most recent own memories. One shape for `mazemaker context` (a SessionStart
 * hook's stdout) and the MCP resource `mazemaker://context`.
 */
import { shortId } from '../protocol'
import type { Memory, RecallHit, Store } from '../store'
import type { ProjectInfo } from './project-terms'

/** The store itself, or the local API through a client (hence either sync or async answers). */
export interface ContextStore {
  recall(query: string, k: number): ReturnType<Store['recall']> | Promise<ReturnType<Store['recall']>>
  list(opts: { limit: number }): ReturnType<Store['list']> | Promise<ReturnType<Store['list']>>
}

export interface SessionContext {
  project: Omit<ProjectInfo, 'dir'> | null
  query: string
  relevant: Pick<RecallHit, 'id' | 'label' | 'content' | 'score' | 'peer'>[]
  recent: Pick<Memory, 'id' | 'label' | 'content' | 'updated_at'>[]
  text: string
}

export const CONTEXT_LIMIT_DEFAULT = 10
export const CONTEXT_LIMIT_MAX = 50
/** Per memory; a session start should not drown the agent in one long note. */
const CONTENT_CHARS = 400

const clip = (s: string) => (s.length > CONTENT_CHARS ? s.slice(0, CONTENT_CHARS) + '…' : s)
const oneLine = (s: string) => clip(s).replace(/\s*\n\s*/g, ' ⏎ ')

export async function sessionContext(
  store: ContextStore,
  project: ProjectInfo | null,
  limit: number,
  publicPrefixes: readonly string[],
): Promise<SessionContext> {
  const query = project ? project.terms.join(' ') : ''
  const hits = query ? await store.recall(query, limit) : []
  const relevant = hits.map(({ id, label, content, score, peer }) => ({ id, label, content, score, peer }))
  const seen = new Set(relevant.map((r) => r.id))
  const listed = await store.list({ limit: Math.min(limit + relevant.length, CONTEXT_LIMIT_MAX * 2) })
  const recent = listed.memories
    .filter((m) => !seen.has(m.id))
    .slice(0, limit)
    .map(({ id, label, content, updated_at }) => ({ id, label, content, updated_at }))

  const lines: string[] = []
  const name = project ? (project.remote ?? project.name) : null
  lines.push(`# Mazemaker memory${name ? ` for ${name}` : ''}`)
  lines.push('')
  lines.push(
    `Memories from the operator's Mazemaker pod. Recall more with the mazemaker_recall tool; store what is worth keeping with mazemaker_remember. ` +
      `Labels starting with ${publicPrefixes.join(' ')} are shared with paired pods; any other label stays private.`,
  )
  if (project) {
    lines.push('')
    lines.push(`## Relevant to this project (${query || 'no project words'})`)
    if (relevant.length === 0) lines.push('- nothing stored matches yet')
    for (const r of relevant) lines.push(`- [${r.label}] ${oneLine(r.content)}${r.peer ? ` (from peer ${shortId(r.peer)})` : ''}`)
  }
  lines.push('')
  lines.push('## Recent work')
  if (recent.length === 0) lines.push('- no other memories yet')
  for (const m of recent) lines.push(`- ${m.updated_at.slice(0, 10)} [${m.label}] ${oneLine(m.content)}`)
  const projectOut = project
    ? { name: project.name, remote: project.remote, branch: project.branch, readme_title: project.readme_title, terms: project.terms }
    : null
  return { project: projectOut, query, relevant, recent, text: lines.join('\n') + '\n' }
}
