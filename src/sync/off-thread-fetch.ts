/**
 * Bounded fetches (bounded-fetch.ts) on a thread of their own, for one pull of many pages. Under
 * Deno, fetch runs on the main thread's event loop: the request for page n+1 leaves only when
 * the loop turns (a timer turn, about 2 ms, before each page is stored), and its answer is read
 * only after page n is stored. In a worker both happen while the main thread stores, and the
 * answer's bytes come back moved, not copied. Where fetch already runs on its own thread (Bun),
 * the pull fetches on the main thread and no worker is made.
 */
import type { BoundedAnswer, BoundedRequest, FetchFailure } from './bounded-fetch'
import { BoundedFetchError } from './bounded-fetch'
import type { FetchWorkerRequest, SyncExchange } from './fetch-worker'
import type { OpenedAnswer } from '../protocol'
import { workerCalls } from '../runtime'

/** The answer, and with `exchange` given and a 200, its signature and seal checked on the thread. */
export type OffThreadAnswer = BoundedAnswer & { opened?: OpenedAnswer }

export interface OffThreadFetch {
  /** `request` as is; with `exchange`, a /peer/sync request the thread seals and signs (its body and auth headers made there). */
  fetch(request: BoundedRequest, signal?: AbortSignal, exchange?: SyncExchange): Promise<OffThreadAnswer>
  /**
   * The thread has loaded its modules and says so (50-80 ms after it starts under Deno): a request
   * sent before that waits for it, so a pull sends its first pages from the main thread meanwhile.
   */
  ready(): boolean
  /** Ends the thread; requests still in flight fail. */
  close(): void
}

type WorkerAnswer = { id: number; answer: BoundedAnswer; opened?: OpenedAnswer } | { id: number; failure: FetchFailure }

export function startOffThreadFetch(): OffThreadFetch {
  const worker = new Worker(new URL('./fetch-worker.ts', import.meta.url).href, { type: 'module' })
  const failed = (detail: string) => new BoundedFetchError({ phase: 'request', kind: 'failed', detail })
  const calls = workerCalls<WorkerAnswer, OffThreadAnswer>(
    worker,
    'fetch thread',
    (data: WorkerAnswer) => ('answer' in data ? { ...data.answer, opened: data.opened } : new BoundedFetchError(data.failure)),
    failed,
  )
  let closed = false
  let ready = false
  worker.addEventListener('message', ({ data }: MessageEvent<{ ready?: true }>) => {
    if (data.ready === true) ready = true
  })
  return {
    ready: () => ready && !closed,
    fetch(request, signal, exchange) {
      if (closed) return Promise.reject(failed('the fetch thread is closed'))
      const { id, answer } = calls.call({ request, exchange })
      const abort = () => worker.postMessage({ id, abort: true } satisfies FetchWorkerRequest)
      if (signal?.aborted) abort()
      else signal?.addEventListener('abort', abort, { once: true })
      return answer.finally(() => signal?.removeEventListener('abort', abort))
    },
    close() {
      if (closed) return
      closed = true
      worker.terminate()
      calls.failAll('the fetch thread was closed')
    },
  }
}

/** Hands out one fetch thread to the pulls that run at the same time. */
export interface FetchThread {
  /** The shared thread; its close() lets go of it (the thread ends when the last user lets go). */
  acquire(): OffThreadFetch
}

/**
 * One fetch thread shared by the pulls that run at once (a sync loop runs several): started by
 * the first that asks, ended when the last lets go, so a pod keeps no thread between bulk pulls
 * and never more than one (each holds a JavaScript heap of its own, about 30 MB).
 */
export function sharedFetchThread(start: () => OffThreadFetch = startOffThreadFetch): FetchThread {
  let thread: OffThreadFetch | null = null
  let users = 0
  return {
    acquire() {
      const mine = (thread ??= start())
      users++
      let released = false
      return {
        fetch: (request, signal, exchange) => mine.fetch(request, signal, exchange),
        ready: () => !released && mine.ready(),
        close() {
          if (released) return
          released = true
          if (--users === 0 && thread === mine) {
            thread = null
            mine.close()
          }
        },
      }
    },
  }
}
