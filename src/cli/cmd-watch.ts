/**
 * `mazemaker watch [--json] [--prefix P]`: follows new, changed and deleted memories as the
 * running pod commits them (written here, or pulled from peers), from GET /events over the
 * home's socket. Text mode prints one escaped line per change; --json prints one JSON object
 * per line for scripts. Everything a peer chose (labels, content) goes through visible().
 */
import { defineCommand } from 'citty'
import type { MemoryEvent } from '../api/types'
import { panelSse } from './panel-modules'
import { shortId } from '../identity'
import { PodError } from '../lib/errors'
import { jsonVisible, visible } from '../lib/visible'
import { MAX_ANSWER_BYTES, podClient, type GlobalFlags } from './context'

export type { MemoryEvent } from '../api/types'

/** One line for the terminal: time, +/~/-, label, origin, first line of content. */
export function formatMemoryEvent(e: MemoryEvent): string {
  const mark = e.op === 'insert' ? '+' : e.op === 'update' ? '~' : '-'
  const time = e.at.slice(11, 19)
  const from = e.peer ? `  [from ${visible(shortId(e.peer))}]` : ''
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
          const { podEvent, sseFrames } = await panelSse()
          for await (const frame of sseFrames(res.body, MAX_ANSWER_BYTES)) {
            const e = podEvent(frame)
            if (e?.event === 'overflow') {
              overflow = true
              break
            }
            if (e?.event === 'skipped') {
              const { count } = e.data
              if (!args.json) process.stdout.write(`… ${count} more changes in that commit (mazemaker recall or the panel lists them)\n`)
              else process.stdout.write(`${JSON.stringify({ skipped: count })}\n`)
              continue
            }
            if (e?.event !== 'memory') continue
            if (args.prefix && !e.data.label.startsWith(args.prefix)) continue
            process.stdout.write(args.json ? `${jsonVisible(JSON.stringify(e.data))}\n` : `${formatMemoryEvent(e.data)}\n`)
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
