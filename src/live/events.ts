/**
 * The pod's in-process event bus: what the pod publishes for its live views (GET /events, the
 * panel, `mazemaker watch`): commits and shutdown (peer changes go through peers-feed.ts). src/pod wires it to the store
 * and the sync loop; the HTTP stream that serves it is src/http/events.ts.
 */
import type { CommittedChange } from '../store'

/** What the pod publishes for the stream; src/pod wires it to the store and the sync loop. */
export type PodEvent = { type: 'commit'; changes: readonly CommittedChange[] } | { type: 'close' }

export interface PodEvents {
  subscribe(listener: (e: PodEvent) => void): () => void
}

/**
 * A tiny in-process publisher of PodEvents (one per pod, no module state). `connect` is the
 * bridge to the store's commits: called when the first stream subscribes and undone when the
 * last one leaves, so with no client connected the store journals no pulled copies for us.
 * connect() runs inside the first subscribe(), before it returns: a stream that subscribed
 * sees every commit that begins after that (nothing falls between subscribing and bridging).
 */
export function createPodEvents(
  opts: { connect?: (publish: (e: PodEvent) => void) => () => void } = {},
): PodEvents & { publish(e: PodEvent): void; readonly listeners: number; readonly connected: boolean } {
  const listeners = new Set<(e: PodEvent) => void>()
  let disconnect: (() => void) | null = null
  function publish(e: PodEvent): void {
    for (const l of [...listeners]) {
      try {
        l(e)
      } catch {
        /* one stream's failure is its own */
      }
    }
  }
  return {
    subscribe(l) {
      listeners.add(l)
      if (!disconnect && opts.connect) disconnect = opts.connect(publish)
      return () => {
        if (!listeners.delete(l) || listeners.size > 0) return
        disconnect?.()
        disconnect = null
      }
    },
    publish,
    get listeners() {
      return listeners.size
    },
    get connected() {
      return disconnect !== null
    },
  }
}
