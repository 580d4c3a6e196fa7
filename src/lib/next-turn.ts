/**
 * Resolves on a later turn of the event loop, after the I/O that waits: a long job in the
 * background (a scan of every memory, an index drain) awaits it between batches so the pod keeps
 * answering. Awaiting a promise that is already settled does not do this (microtasks run before
 * any I/O), and under Deno a timer turn, not setImmediate, is what polls I/O (runtime/deno.ts).
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0))
}
