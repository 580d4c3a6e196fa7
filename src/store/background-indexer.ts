/**
 * Drains the queue of pulled copies waiting for their full-text rows (copy-index.ts), one batch
 * per macrotask, so a big pull is searchable seconds later without blocking the pod for the
 * whole time; then does the upkeep a bulk pull put off (bulk-writes.ts), a step per macrotask.
 * kick() after a pull stored something; close() waits for the step in flight.
 */
import type { Logger } from '../lib/log'
import { nextTurn } from '../lib/next-turn'
import type { Store } from './types'

export type IndexerStore = Pick<Store, 'indexPending' | 'hasPendingIndex' | 'tidyStep'>

export interface BackgroundIndexer {
  kick(): void
  close(): Promise<void>
}

export function startBackgroundIndexer(store: IndexerStore, log: Logger): BackgroundIndexer {
  let running: Promise<void> | null = null
  let closed = false

  async function drain(): Promise<void> {
    let total = 0
    const started = performance.now()
    try {
      while (!closed) {
        const n = store.indexPending()
        if (n === 0) break
        total += n
        await nextTurn()
      }
      // Never in the caller's turn (a pull's end): its answer goes out first.
      if (!closed) await nextTurn()
      while (!closed && store.tidyStep()) await nextTurn()
    } catch (err) {
      // Nothing is lost: the queue stays in the database and recall drains it before searching.
      log.warn({ op: 'index', err: 'index_failed', msg: err instanceof Error ? err.message : String(err) })
    }
    if (total > 0) log.debug({ op: 'index', count: total, ms: Math.round(performance.now() - started) })
  }

  const indexer: BackgroundIndexer = {
    kick() {
      if (closed || running) return
      running = drain().finally(() => {
        running = null
      })
    },
    async close() {
      closed = true
      await running
    },
  }
  if (store.hasPendingIndex()) indexer.kick() // left over from a crash or a stop mid-drain
  return indexer
}
