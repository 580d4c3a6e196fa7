/**
 * The peer list for live views (GET /events: the panel), at hub scale. A stream starts with the
 * whole list; after that every open stream gets the same `peers-changed` frames: only the peers
 * whose entry changed. Changes are gathered for PEERS_WINDOW_MS and each changed peer is built
 * once per window, however many streams are open, so a status change of one peer among 2,000
 * costs one peer's entry, not 2,000 per panel. Entries are compared as JSON with what the
 * streams were last told, so a pull that changed nothing sends nothing. Things that change a
 * peer's entry without a change being reported (peers.toml edited by hand, an unknown caller,
 * a local forget of a copy) are caught by a whole rebuild every PEERS_RECONCILE_MS while a
 * stream is open, and by each new stream's snapshot.
 */
import type { PeersChangedEvent, PeersOverview, PeerStatus, PeerView, UnknownCallerView } from '../api/types'
import type { Clock } from '../lib/clock'
import { summarize } from '../lib/peer-summary'

/** Changes within this long go out as one frame. */
export const PEERS_WINDOW_MS = 250
/** While a stream is open, the whole list is rebuilt this often and what differs is sent. */
export const PEERS_RECONCILE_MS = 30_000

export interface PeersFeedSource {
  /** Every peer, built now. */
  overview(): PeersOverview
  /** These peers, built now (null: no longer a peer), with the peers.toml problem and the unknown callers. */
  peers(ids: readonly string[]): { views: Map<string, PeerView | null>; error: string | null; unknown_callers?: UnknownCallerView[] }
}

export interface PeersFeed {
  /** The whole list for a new stream; from then on `listener` gets every change to it. */
  subscribe(listener: (e: PeersChangedEvent) => void): { snapshot: PeersOverview; unsubscribe(): void }
  /** A peer's entry may have changed (no id: any may have). */
  changed(id?: string): void
  /** Stops the window and the rebuilds. */
  close(): void
}

interface Told {
  json: string
  status: PeerStatus
}

export function createPeersFeed(source: PeersFeedSource, clock: Clock): PeersFeed {
  const listeners = new Set<(e: PeersChangedEvent) => void>()
  /** What every open stream was last told, by peer id (empty while none is open). */
  let told = new Map<string, Told>()
  let toldError: string | null = null
  let toldCallers = '[]'
  let pending = new Set<string>()
  let pendingAll = false
  let windowOpen = false
  let stop = new AbortController()

  function emit(e: PeersChangedEvent): void {
    for (const l of [...listeners]) {
      try {
        l(e)
      } catch {
        /* one stream's failure is its own */
      }
    }
  }

  /** What differs from `told` among `views` (all of them when `whole`: the rest are removed), applied to `told`. */
  function diff(
    views: Iterable<[string, PeerView | null]>,
    whole: boolean,
    error: string | null,
    callers: UnknownCallerView[] | undefined,
  ): PeersChangedEvent | null {
    const changed: PeerView[] = []
    const removed: string[] = []
    const seen = new Set<string>()
    for (const [id, view] of views) {
      seen.add(id)
      if (view === null) {
        if (told.delete(id)) removed.push(id)
        continue
      }
      const json = JSON.stringify(view)
      if (told.get(id)?.json === json) continue
      told.set(id, { json, status: view.status })
      changed.push(view)
    }
    if (whole) {
      for (const id of told.keys()) {
        if (seen.has(id)) continue
        told.delete(id)
        removed.push(id)
      }
    }
    const callersJson = callers ? JSON.stringify(callers) : toldCallers
    const callersChanged = callersJson !== toldCallers
    if (changed.length === 0 && removed.length === 0 && error === toldError && !callersChanged) return null
    toldError = error
    toldCallers = callersJson
    return {
      peers: changed,
      removed,
      summary: summarize(told.values()),
      error,
      ...(callersChanged && callers ? { unknown_callers: callers } : {}),
    }
  }

  /** Takes in a whole overview: `told` becomes it; returns what differed. */
  function takeWhole(o: PeersOverview): PeersChangedEvent | null {
    return diff(
      o.peers.map((p) => [p.id, p] as [string, PeerView]),
      true,
      o.error,
      o.unknown_callers ?? [],
    )
  }

  function flush(): void {
    if (listeners.size === 0) return
    const all = pendingAll
    const ids = [...pending]
    pending = new Set()
    pendingAll = false
    let e: PeersChangedEvent | null
    if (all) e = takeWhole(source.overview())
    else {
      const { views, error, unknown_callers } = source.peers(ids)
      e = diff(views, false, error, unknown_callers)
    }
    if (e) emit(e)
  }

  function changed(id?: string): void {
    if (listeners.size === 0) return
    if (id === undefined) pendingAll = true
    else pending.add(id)
    if (windowOpen) return
    windowOpen = true
    const signal = stop.signal
    void clock.sleep(PEERS_WINDOW_MS, signal).then(() => {
      windowOpen = false
      if (!signal.aborted) flush()
    })
  }

  async function reconcile(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await clock.sleep(PEERS_RECONCILE_MS, signal)
      if (!signal.aborted) changed()
    }
  }

  return {
    subscribe(listener) {
      const snapshot = source.overview()
      if (listeners.size === 0) {
        told = new Map()
        toldError = null
        toldCallers = '[]'
        takeWhole(snapshot)
        void reconcile(stop.signal)
      } else {
        // The streams already open learn whatever the new stream's snapshot shows differently.
        const e = takeWhole(snapshot)
        if (e) emit(e)
      }
      listeners.add(listener)
      return {
        snapshot,
        unsubscribe() {
          if (!listeners.delete(listener) || listeners.size > 0) return
          // No stream left: stop the window and the rebuilds, forget what was told.
          stop.abort()
          stop = new AbortController()
          windowOpen = false
          pending = new Set()
          pendingAll = false
          told = new Map()
        },
      }
    },
    changed,
    close() {
      stop.abort()
      listeners.clear()
    },
  }
}
