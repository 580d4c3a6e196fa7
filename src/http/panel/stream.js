// @ts-check
/**
 * The pod's live stream (GET /events) for the open panel: peer status and arriving memories
 * show without waiting for the next refresh. Read with fetch, so the admin token travels in the
 * Authorization header and never in a URL (the browser's own event-stream reader cannot send headers).
 * A dropped stream is opened again after STREAM_RETRY_MS; while it is down the panel polls.
 */
/** @import { PodEvent } from './sse.js' */
import { parseShown } from './api.js'
import { podEvent, sseFrames } from './sse.js'

/** A dropped stream is opened again after this long. */
const STREAM_RETRY_MS = 2000
/** A frame longer than this ends the stream (then it is opened again): a full peer list of a big hub fits. */
const MAX_FRAME_CHARS = 64 * 1024 * 1024

/**
 * @param {{
 *   token: () => string | null,
 *   onEvent: (e: PodEvent) => void,
 *   onUnauthorized: () => void,
 *   onLive: (live: boolean) => void,
 * }} deps
 */
export function createStream({ token, onEvent, onUnauthorized, onLive }) {
  /** @type {AbortController | null} */
  let current = null

  async function follow() {
    if (current || !token()) return
    const ctl = new AbortController()
    current = ctl
    try {
      const res = await fetch('events', {
        headers: { Authorization: `Bearer ${token()}`, Accept: 'text/event-stream' },
        cache: 'no-store',
        credentials: 'omit',
        signal: ctl.signal,
      })
      if (res.status === 401) return onUnauthorized()
      if (!res.ok || !res.body) return
      onLive(true)
      // Same rule as api.js: every string the server sends is made visible before it is shown.
      for await (const frame of sseFrames(res.body, MAX_FRAME_CHARS)) {
        const e = podEvent(frame, parseShown)
        if (e) onEvent(e)
      }
    } catch {
      // the pod went away or the tab is closing: the retry below (or the poll) takes over
    } finally {
      if (current === ctl) {
        current = null
        onLive(false)
      }
      if (token() && !ctl.signal.aborted) setTimeout(follow, STREAM_RETRY_MS)
    }
  }

  return {
    follow,
    /** Ends the stream (a new token, or signed out); follow() opens a new one. */
    stop() {
      current?.abort()
      current = null
    },
  }
}
