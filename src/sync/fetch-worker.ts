/**
 * The thread of a pull's requests where fetch runs on the main thread's event loop (Deno; see
 * off-thread-fetch.ts): each message is one bounded fetch (bounded-fetch.ts), answered with the
 * answer's bytes (moved, not copied) or why it failed. `{ id, abort: true }` cancels one.
 */
import { type BoundedRequest, BoundedFetchError, boundedFetch } from './bounded-fetch'

export type FetchWorkerRequest = { id: number; request: BoundedRequest } | { id: number; abort: true }

interface WorkerScope {
  onmessage: ((e: MessageEvent<FetchWorkerRequest>) => void) | null
  postMessage(message: unknown, transfer?: Transferable[]): void
}

function serveRequests(scope: WorkerScope): void {
  const inFlight = new Map<number, AbortController>()
  scope.onmessage = ({ data }) => {
    if ('abort' in data) {
      inFlight.get(data.id)?.abort()
      return
    }
    const ctl = new AbortController()
    inFlight.set(data.id, ctl)
    boundedFetch(data.request, { signal: ctl.signal })
      .then(
        (answer) => scope.postMessage({ id: data.id, answer }, [answer.body.buffer]),
        (err) => {
          const failure = err instanceof BoundedFetchError ? err.failure : { phase: 'request', kind: 'failed', detail: String(err) }
          scope.postMessage({ id: data.id, failure })
        },
      )
      .finally(() => inFlight.delete(data.id))
  }
}

serveRequests(globalThis as unknown as WorkerScope)
