/**
 * `mazemaker watch [--json] [--prefix P]`: follows new, changed and deleted memories as the
 * running pod commits them (written here, or pulled from peers), from GET /events over the
 * home's socket. Text mode prints one escaped line per change; --json prints one JSON object
 * per line for scripts. Everything a peer chose (labels, content) goes through visible().
 */
import { defineCommand } from 'citty'
import { PodError } from '../lib/errors'
import { jsonVisible, visible } from '../lib/visible'
import { MAX_ANSWER_BYTES, podClient, type GlobalFlags } from './context'

export interface MemoryEvent {
  op: 'insert' | 'update' | 'delete'
  id: string
  label: string
  peer: string | null
  encrypted: boolean
  content?: string
  at: string
}

export interface SseFrame {
  event: string
  data: string
}

/** Frames of a text/event-stream body; a frame larger than `maxBytes` ends the stream with an error. */
export async function* sseFrames(body: ReadableStream<Uint8Array>, maxBytes = MAX_ANSWER_BYTES): AsyncGenerator<SseFrame> {
  const decoder = new TextDecoder()
  let buf = ''
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true })
    let end: number
    while ((end = buf.indexOf('\n\n')) >= 0) {
      const raw = buf.slice(0, end)
      buf = buf.slice(end + 2)
      let event = 'message'
      const data: string[] = []
      for (const line of raw.split('\n')) {
        if (line.startsWith(':')) continue // comment (ping)
        const colon = line.indexOf(':')
        const field = colon < 0 ? line : line.slice(0, colon)
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
        if (field === 'event') event = value
        else if (field === 'data') data.push(value)
      }
      if (data.length > 0) yield { event, data: data.join('\n') }
    }
    if (buf.length > maxBytes) throw new PodError('too_large', `an event from the pod is over ${maxBytes} bytes`)
  }
}

/** One line for the terminal: time, +/~/-, label, origin, first line of content. */
export function formatMemoryEvent(e: MemoryEvent): string {
  const mark = e.op === 'insert' ? '+' : e.op === 'update' ? '~' : '-'
  const time = e.at.slice(11, 19)
  const from = e.peer ? `  [from ${visible(e.peer.slice(0, 8))}]` : ''
  const priv = e.encrypted ? '  (private)' : ''
  const first =
    e.content === undefined ? '' : `  ${visible(e.content.split('\n')[0]!.slice(0, 200))}${e.content.length > 200 || e.content.includes('\n') ? '…' : ''}`
  return `${time} ${mark} ${visible(e.label || e.id)}${from}${priv}${first}`
}

export function watchCommand(flags: GlobalFlags) {
  return defineCommand({
    meta: { name: 'watch', description: 'Follow memories as they arrive (written here or pulled from peers); Ctrl-C to stop' },
    args: {
      json: { type: 'boolean', description: 'one JSON object per line (for scripts)' },
      prefix: { type: 'string', description: 'only labels starting with this (e.g. peer: for arrivals from peers)' },
    },
    async run({ args }) {
      const client = podClient(flags)
      if (!(await client.running())) {
        throw new PodError('not_running', `no pod is running for this home (${client.target}); start it with \`mazemaker serve\`, then watch again`)
      }
      const stop = new AbortController()
      process.once('SIGINT', () => stop.abort())
      process.once('SIGTERM', () => stop.abort())
      // An `overflow` (we fell behind) reconnects; the pod going away ends the watch.
      while (!stop.signal.aborted) {
        let res: Response
        try {
          res = await client.request('/events', { headers: { accept: 'text/event-stream' }, signal: stop.signal })
        } catch (err) {
          if (stop.signal.aborted) return
          throw new PodError('not_running', `lost the pod: ${err instanceof Error ? err.message : String(err)}`)
        }
        if (!res.ok || !res.body) throw new PodError(`http_${res.status}`, `GET /events → ${res.status}`)
        if (!args.json) process.stderr.write(`watching ${visible(client.target)} (Ctrl-C to stop)\n`)
        let overflow = false
        try {
          for await (const frame of sseFrames(res.body)) {
            if (frame.event === 'overflow') {
              overflow = true
              break
            }
            if (frame.event === 'skipped') {
              const { count } = JSON.parse(frame.data) as { count: number }
              if (!args.json) process.stdout.write(`… ${count} more changes in that commit (mazemaker recall or the panel lists them)\n`)
              else process.stdout.write(`${JSON.stringify({ skipped: count })}\n`)
              continue
            }
            if (frame.event !== 'memory') continue
            const e = JSON.parse(frame.data) as MemoryEvent
            if (args.prefix && !e.label.startsWith(args.prefix)) continue
            process.stdout.write(args.json ? `${jsonVisible(JSON.stringify(e))}\n` : `${formatMemoryEvent(e)}\n`)
          }
        } catch (err) {
          if (stop.signal.aborted) return
          throw new PodError('not_running', `lost the pod: ${err instanceof Error ? err.message : String(err)}`)
        }
        if (!overflow) {
          if (stop.signal.aborted) return
          throw new PodError('not_running', 'the pod stopped; watch ends')
        }
      }
    },
  })
}
