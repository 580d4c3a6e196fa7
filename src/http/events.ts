/**
 * GET /events (admin): the pod as a live stream (text/event-stream) for the panel and
 * `mazemaker watch`. Events (typed in EventFrames, src/api/types.ts):
 *
 *   event: memory   data: {"op": "insert"|"update"|"delete", "id", "label", "peer": null|<id>,
 *                          "encrypted", "content"?, "at"}     a memory of ours or a pulled copy
 *   event: skipped  data: {"count": n}                        more changes in one commit than we
 *                                                              send (a big pull); re-list to see them
 *   event: peers    data: <GET /peer/peers answer>            first on every stream: the whole list
 *   event: peers-changed  data: {"peers": [...], "removed": [ids], "summary", "error", "unknown_callers"?}
 *                                                              then only the peers that changed (peers-feed.ts:
 *                                                              gathered per short window, built once for every stream)
 *   : ping                                                   every EVENTS_PING_MS (proxies' idle limits)
 *
 * The admin token travels in the Authorization header (the panel reads this stream with fetch, not
 * EventSource, so the token never sits in a URL). A client that does not keep up is not buffered
 * for without end: past EVENTS_MAX_QUEUED unsent events the stream ends with `event: overflow`,
 * and the client reconnects and re-lists.
 */
import { Hono } from 'hono'
import type { Clock } from '../lib/clock'
import type { EventFrames, EventName, MemoryEvent, PeersChangedEvent } from '../api/types'
import type { PeersFeed, PodEvents } from '../live'
import type { CommittedChange, Store } from '../store'

/** At most this many memory events per commit; the rest is one `skipped` event. */
export const EVENTS_MAX_PER_COMMIT = 100
/** Events waiting for a slow client before we give up on it. */
export const EVENTS_MAX_QUEUED = 1000
/** Under Bun's 10 s idle limit of the socket server and every proxy's. */
export const EVENTS_PING_MS = 8_000

export interface EventRouteDeps {
  store: Store
  clock: Clock
  /** What GET /events streams (absent: 404): commits and the peer list. */
  events?: PodEvents
  peersFeed?: PeersFeed
}

export function eventRoutes(deps: EventRouteDeps) {
  const enc = new TextEncoder()
  // Every open stream gets the same peers-changed frame: encoded once, for the first stream that sends it.
  let lastChange: PeersChangedEvent | null = null
  let lastChangeBytes = new Uint8Array()
  const encodeChange = (e: PeersChangedEvent) => {
    if (e !== lastChange) [lastChange, lastChangeBytes] = [e, enc.encode(frame('peers-changed', e))]
    return lastChangeBytes
  }
  return new Hono().get('/events', (c) => {
    const { events, peersFeed } = deps
    if (!events || !peersFeed) return c.json({ error: 'not_found', message: 'this pod serves no event stream' }, 404)
    const stop = new AbortController()
    let unsubscribe = () => {}
    const stream = new ReadableStream<Uint8Array>({
      start(ctl) {
        const send = (chunk: string | Uint8Array) => {
          if (stop.signal.aborted) return
          // desiredSize counts chunks not yet read (high-water mark 1): a client that stopped reading.
          if ((ctl.desiredSize ?? 0) <= -EVENTS_MAX_QUEUED) {
            ctl.enqueue(enc.encode(frame('overflow', {})))
            finish()
            ctl.close()
            return
          }
          ctl.enqueue(typeof chunk === 'string' ? enc.encode(chunk) : chunk)
        }
        const finish = () => {
          stop.abort()
          unsubscribe()
        }
        // The whole list first, then only changes: a client that (re)connects is never out of step.
        const peers = peersFeed.subscribe((e) => send(encodeChange(e)))
        let unsubscribeEvents = () => {}
        unsubscribe = () => {
          unsubscribeEvents()
          peers.unsubscribe()
        }
        unsubscribeEvents = events.subscribe((e) => {
          if (e.type === 'close') {
            // The pod is shutting down: end the stream so the server's stop need not wait for it.
            finish()
            return ctl.close()
          }
          const mem = e.changes
          const shown = mem.slice(0, EVENTS_MAX_PER_COMMIT)
          for (const ch of shown) send(frame('memory', memoryEvent(deps, ch)))
          if (mem.length > shown.length) send(frame('skipped', { count: mem.length - shown.length }))
        })
        c.req.raw.signal.addEventListener('abort', finish, { once: true })
        send(frame('peers', peers.snapshot))
        void ping(deps.clock, stop.signal, () => send(': ping\n\n'))
      },
      cancel() {
        stop.abort()
        unsubscribe()
      },
    })
    return new Response(stream, {
      headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' },
    })
  })
}

/** One frame of the stream; its data is typed by its name (EventFrames). */
export function frame<E extends EventName>(event: E, data: EventFrames[E]): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`
}

function memoryEvent(deps: Pick<EventRouteDeps, 'store' | 'clock'>, ch: CommittedChange): MemoryEvent {
  const base: MemoryEvent = {
    op: ch.op,
    id: ch.id,
    label: ch.label,
    peer: ch.origin_peer,
    encrypted: ch.encrypted,
    at: new Date(deps.clock.now()).toISOString(),
  }
  if (ch.deleted) return { ...base, op: 'delete' }
  // Decrypted for the operator's own stream (admin only), as GET /memories/:id would.
  const m = deps.store.get(ch.id)
  return m ? { ...base, label: m.label, encrypted: m.encrypted, content: m.content } : base
}

async function ping(clock: Clock, signal: AbortSignal, send: () => void): Promise<void> {
  while (!signal.aborted) {
    await clock.sleep(EVENTS_PING_MS, signal)
    if (!signal.aborted) send()
  }
}
