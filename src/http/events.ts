/**
 * GET /events (admin): the pod as a live stream (text/event-stream) for the panel and
 * `mazemaker watch`. Events (typed in EventFrames, src/api/types.ts):
 *
 *   event: memory   data: {"op": "insert"|"update"|"delete", "id", "label", "peer": null|<id>,
 *                          "encrypted", "content"?, "at"}     a memory of ours or a pulled copy
 *   event: skipped  data: {"count": n}                        more changes in one commit than we
 *                                                              send (a big pull); re-list to see them
 *   event: peers    data: <GET /peer/peers answer>            after pulls and peer changes
 *   : ping                                                   every EVENTS_PING_MS (proxies' idle limits)
 *
 * The admin token travels in the Authorization header (the panel reads this stream with fetch, not
 * EventSource, so the token never sits in a URL). A client that does not keep up is not buffered
 * for without end: past EVENTS_MAX_QUEUED unsent events the stream ends with `event: overflow`,
 * and the client reconnects and re-lists.
 */
import { Hono } from 'hono'
import type { Clock } from '../lib/clock'
import type { EventFrames, EventName, MemoryEvent, PeersOverview } from '../api/types'
import type { PodEvents } from '../live'
import type { CommittedChange, Store } from '../store'

/** At most this many memory events per commit; the rest is one `skipped` event. */
export const EVENTS_MAX_PER_COMMIT = 100
/** Events waiting for a slow client before we give up on it. */
export const EVENTS_MAX_QUEUED = 1000
/** Under Bun's 10 s idle limit of the socket server and every proxy's. */
export const EVENTS_PING_MS = 8_000
/** A burst of pulls sends the peer list at most this often. */
const PEERS_THROTTLE_MS = 250

export interface EventRouteDeps {
  store: Store
  clock: Clock
  peersOverview(): PeersOverview
  /** What GET /events streams (absent: 404). */
  events?: PodEvents
}

export function eventRoutes(deps: EventRouteDeps) {
  return new Hono().get('/events', (c) => {
    const events = deps.events
    if (!events) return c.json({ error: 'not_found', message: 'this pod serves no event stream' }, 404)
    const enc = new TextEncoder()
    const stop = new AbortController()
    let peersTimer = false
    let unsubscribe = () => {}
    const stream = new ReadableStream<Uint8Array>({
      start(ctl) {
        const send = (text: string) => {
          if (stop.signal.aborted) return
          // desiredSize counts chunks not yet read (high-water mark 1): a client that stopped reading.
          if ((ctl.desiredSize ?? 0) <= -EVENTS_MAX_QUEUED) {
            ctl.enqueue(enc.encode(frame('overflow', {})))
            finish()
            ctl.close()
            return
          }
          ctl.enqueue(enc.encode(text))
        }
        const finish = () => {
          stop.abort()
          unsubscribe()
        }
        const sendPeers = () => {
          if (peersTimer) return
          peersTimer = true
          void deps.clock.sleep(PEERS_THROTTLE_MS, stop.signal).then(() => {
            peersTimer = false
            if (!stop.signal.aborted) send(frame('peers', deps.peersOverview()))
          })
        }
        unsubscribe = events.subscribe((e) => {
          if (e.type === 'close') {
            // The pod is shutting down: end the stream so the server's stop need not wait for it.
            finish()
            return ctl.close()
          }
          if (e.type === 'peers') return sendPeers()
          const mem = e.changes
          const shown = mem.slice(0, EVENTS_MAX_PER_COMMIT)
          for (const ch of shown) send(frame('memory', memoryEvent(deps, ch)))
          if (mem.length > shown.length) send(frame('skipped', { count: mem.length - shown.length }))
        })
        c.req.raw.signal.addEventListener('abort', finish, { once: true })
        send(frame('peers', deps.peersOverview()))
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
