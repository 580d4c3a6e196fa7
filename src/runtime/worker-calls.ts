/**
 * Calls to a worker answered by id: each call posts `{ id, ...message }` and settles with the
 * answer the worker posts back under that id. Used by the threads of this program (the fetch
 * thread of a Deno pull, the checkpoint thread); the worker's own failure rejects every call
 * still waiting.
 */

export interface WorkerCalls<Answer> {
  /** Posts `message` under a fresh id; `answer` settles with what the worker posts back for it. */
  call(message: object): { id: number; answer: Promise<Answer> }
  /** Rejects every call still waiting with `failure(detail)` (the thread failed or is closing). */
  failAll(detail: string): void
}

/**
 * Takes over `worker`'s onmessage and onerror. `read` turns a message from the worker into its
 * answer, or into the Error its call rejects with; `failure` makes the error of a call cut short.
 * `what` names the thread in the error when the worker itself fails.
 */
export function workerCalls<Incoming extends { id: number }, Answer>(
  worker: Worker,
  what: string,
  read: (data: Incoming) => Answer | Error,
  failure: (detail: string) => Error,
): WorkerCalls<Answer> {
  const pending = new Map<number, { resolve(a: Answer): void; reject(e: Error): void }>()
  let nextId = 0
  const failAll = (detail: string) => {
    for (const waiter of pending.values()) waiter.reject(failure(detail))
    pending.clear()
  }
  worker.onmessage = ({ data }: MessageEvent<Incoming>) => {
    const waiter = pending.get(data.id)
    if (!waiter) return
    pending.delete(data.id)
    const answer = read(data)
    if (answer instanceof Error) waiter.reject(answer)
    else waiter.resolve(answer)
  }
  worker.onerror = (e: ErrorEvent) => {
    e.preventDefault()
    failAll(`the ${what} failed: ${e.message}`)
  }
  return {
    call(message) {
      const id = nextId++
      const answer = new Promise<Answer>((resolve, reject) => pending.set(id, { resolve, reject }))
      worker.postMessage({ id, ...message })
      return { id, answer }
    },
    failAll,
  }
}
