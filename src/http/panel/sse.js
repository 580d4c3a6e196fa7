// @ts-check
/**
 * Frames of a text/event-stream body, as GET /events sends them (src/http/events.ts), typed by
 * their event name (EventFrames). Shared by the panel (which reads the stream with fetch, so the
 * admin token travels in a header, never a URL) and `mazemaker watch`.
 */
/** @import { EventFrames, EventName } from '../../api/types.ts' */

/** @typedef {{ event: string, data: string }} SseFrame */
/** @typedef {{ [E in EventName]: { event: E, data: EventFrames[E] } }[EventName]} PodEvent */

/** A frame (or the text before its end) longer than the reader allows. */
export class FrameTooLarge extends Error {}

/** @type {readonly string[]} */
const EVENT_NAMES = /** @type {EventName[]} */ (['memory', 'skipped', 'peers', 'peers-changed', 'overflow'])

/**
 * The frames of `body` as they arrive; comments (`: ping`) are skipped.
 * @param {ReadableStream<Uint8Array>} body
 * @param {number} maxChars a frame longer than this ends the stream with FrameTooLarge
 * @returns {AsyncGenerator<SseFrame>}
 */
export async function* sseFrames(body, maxChars) {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let buf = ''
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return
      buf += decoder.decode(value, { stream: true })
      let end
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const frame = parseFrame(buf.slice(0, end))
        buf = buf.slice(end + 2)
        if (frame) yield frame
      }
      if (buf.length > maxChars) throw new FrameTooLarge(`an event from the pod is over ${maxChars} bytes`)
    }
  } finally {
    reader.releaseLock()
  }
}

/** @param {string} raw @returns {SseFrame | null} */
function parseFrame(raw) {
  let event = 'message'
  /** @type {string[]} */
  const data = []
  for (const line of raw.split('\n')) {
    if (line.startsWith(':')) continue // a comment (ping)
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
    if (field === 'event') event = value
    else if (field === 'data') data.push(value)
  }
  return data.length > 0 ? { event, data: data.join('\n') } : null
}

/**
 * The pod's event in a frame, its data parsed with `parse`; null for an event this reader does
 * not know (a newer pod's) or data that is not JSON.
 * @param {SseFrame} frame
 * @param {(text: string) => unknown} [parse]
 * @returns {PodEvent | null}
 */
export function podEvent(frame, parse = JSON.parse) {
  if (!EVENT_NAMES.includes(frame.event)) return null
  try {
    return /** @type {PodEvent} */ ({ event: frame.event, data: parse(frame.data) })
  } catch {
    return null
  }
}
