/**
 * Resolves on a later turn of the event loop, after the I/O that waits: a long job in the
 * background (a scan of every memory, an index drain) awaits it between batches so the pod keeps
 * answering. Awaiting a promise that is already settled does not do this (microtasks run before
 * any I/O), and under Deno a timer turn, not setImmediate, is what polls I/O (runtime/deno.ts).
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0))
}

/** A job in the background lets requests in at least this often (ms of its own time). */
export const BACKGROUND_TURN_MS = 20

/**
 * What a long job awaits after each batch: a turn of the event loop once `everyMs` of its time
 * have passed since the last one, else nothing. A turn costs the job about 1 ms of wall time (the
 * timer) and 0.4 ms of CPU: once per 100-memory batch of the credential backfill, that was 1.5 s
 * more wall and 0.36 s more CPU for 100k memories; every 20 ms, requests wait at most that long.
 */
export function turnEvery(everyMs: number, now: () => number): () => Promise<void> {
  let last = now()
  return async () => {
    if (now() - last < everyMs) return
    await nextTurn()
    last = now()
  }
}
