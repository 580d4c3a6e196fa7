/**
 * What a peer would receive if it pulled everything now: the serving side's own change feed
 * (Store.changesSince, the code path of POST /peer/sync, gate and scope included) walked from the
 * start. Nothing here decides what is shareable; it only counts and samples what the feed serves.
 */
import type { Store } from '../store'

export type PreviewStore = Pick<Store, 'changesSince'>

export interface SharePreview {
  scope: string[]
  /** Memories a pull from the start would deliver in full. */
  total: number
  /** Per label prefix (text up to and including the first ':'). */
  by_prefix: Record<string, number>
  /** The most recently changed of them, newest first, at most `limit`. */
  memories: { id: string; label: string; content: string; updated_at: string }[]
  truncated: boolean
}

/** Feed pages read per preview step; the feed's own maximum. */
const PAGE = 1000
/** Content shown per memory in a preview; enough to recognise it. */
export const PREVIEW_CONTENT_CHARS = 200

export function sharePreview(store: PreviewStore, scope: string[], limit: number): SharePreview {
  const byPrefix: Record<string, number> = {}
  // A ring of the last `limit` served entries: the feed runs oldest change first.
  const recent: SharePreview['memories'] = []
  let total = 0
  let since: string | null = null
  for (;;) {
    const page = store.changesSince(since, scope, PAGE)
    for (const e of page.memories) {
      if ('deleted' in e) continue
      total++
      const colon = e.label.indexOf(':')
      const prefix = colon >= 0 ? e.label.slice(0, colon + 1) : e.label
      byPrefix[prefix] = (byPrefix[prefix] ?? 0) + 1
      if (limit > 0) {
        if (recent.length === limit) recent.shift()
        const content = e.content.length > PREVIEW_CONTENT_CHARS ? e.content.slice(0, PREVIEW_CONTENT_CHARS) + '…' : e.content
        recent.push({ id: e.id, label: e.label, content, updated_at: e.updated_at })
      }
    }
    if (!page.more || page.cursor === since) break
    since = page.cursor
  }
  return { scope, total, by_prefix: byPrefix, memories: recent.reverse(), truncated: total > recent.length }
}
