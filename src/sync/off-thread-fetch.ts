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
import type { FetchWorkerRequest } from './fetch-worker'

export interface OffThreadFetch {
  fetch(request: BoundedRequest, signal?: AbortSignal): Promise<BoundedAnswer>
  /** Ends the thread; requests still in flight fail. */
  close(): void
}

type WorkerAnswer = { id: number; answer: BoundedAnswer } | { id: number; failure: FetchFailure }

export function startOffThreadFetch(): OffThreadFetch {
  const worker = new Worker(new URL('./fetch-worker.ts', import.meta.url).href, { type: 'module' })
  const pending = new Map<number, { resolve(a: BoundedAnswer): void; reject(e: Error): void }>()
  let nextId = 0
  let closed = false
  worker.onmessage = ({ data }: MessageEvent<WorkerAnswer>) => {
    const waiter = pending.get(data.id)
    if (!waiter) return
    pending.delete(data.id)
    if ('answer' in data) waiter.resolve(data.answer)
    else waiter.reject(new BoundedFetchError(data.failure))
  }
  worker.onerror = (e: ErrorEvent) => {
    e.preventDefault()
    fail(`the fetch thread failed: ${e.message}`)
  }
  function fail(detail: string): void {
    for (const waiter of pending.values()) waiter.reject(new BoundedFetchError({ phase: 'request', kind: 'failed', detail }))
    pending.clear()
  }
  return {
    fetch(request, signal) {
      if (closed) return Promise.reject(new BoundedFetchError({ phase: 'request', kind: 'failed', detail: 'the fetch thread is closed' }))
      const id = nextId++
      const abort = () => worker.postMessage({ id, abort: true } satisfies FetchWorkerRequest)
      return new Promise<BoundedAnswer>((resolve, reject) => {
        const settled = () => signal?.removeEventListener('abort', abort)
        pending.set(id, {
          resolve: (a) => (settled(), resolve(a)),
          reject: (e) => (settled(), reject(e)),
        })
        worker.postMessage({ id, request } satisfies FetchWorkerRequest)
        if (signal?.aborted) abort()
        else signal?.addEventListener('abort', abort, { once: true })
      })
    },
    close() {
      if (closed) return
      closed = true
      worker.terminate()
      fail('the fetch thread was closed')
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
        fetch: (request, signal) => mine.fetch(request, signal),
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
