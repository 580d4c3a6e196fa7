/**
 * Raw HTTP/1.1 over a TCP socket, for tests about what a server does before a body has arrived:
 * fetch() will not show whether an answer came while the request body was still being sent.
 */
import { connect, type Socket } from 'node:net'

export interface PartialRequest {
  /** The status of the answer, which must come while the body is still incomplete. */
  status: Promise<number>
  /** Body bytes written so far. */
  sent(): number
  close(): void
}

/**
 * Sends the head and `firstBytes` of a body that is declared (Content-Length) or chunked to be
 * `declaredBytes` long, then sends nothing more: a server that waits for the whole body never
 * answers. Resolves `status` from the answer's status line.
 */
export function sendPartial(opts: {
  url: string
  method?: string
  path: string
  headers?: Record<string, string>
  declaredBytes: number
  firstBytes: number
  chunked?: boolean
}): PartialRequest {
  const u = new URL(opts.url)
  const sock: Socket = connect(Number(u.port), u.hostname)
  let sent = 0
  let answer = ''
  const status = new Promise<number>((resolve, reject) => {
    sock.on('error', reject)
    sock.on('data', (d) => {
      answer += d.toString('latin1')
      const m = /^HTTP\/1\.1 (\d{3}) /.exec(answer)
      if (m) resolve(Number(m[1]))
    })
    sock.on('close', () => reject(new Error(`connection closed without an answer: ${JSON.stringify(answer.slice(0, 200))}`)))
  })
  status.catch(() => {})
  sock.on('connect', () => {
    const lines = [`${opts.method ?? 'POST'} ${opts.path} HTTP/1.1`, `Host: ${u.host}`]
    // application/json unless the caller names its own type (a sealed /peer/sync body).
    if (!Object.keys(opts.headers ?? {}).some((k) => k.toLowerCase() === 'content-type')) lines.push('Content-Type: application/json')
    for (const [k, v] of Object.entries(opts.headers ?? {})) lines.push(`${k}: ${v}`)
    lines.push(opts.chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${opts.declaredBytes}`)
    sock.write(`${lines.join('\r\n')}\r\n\r\n`)
    const piece = Buffer.alloc(opts.firstBytes, 0x61)
    if (opts.chunked) sock.write(`${piece.length.toString(16)}\r\n`)
    sock.write(piece)
    if (opts.chunked) sock.write('\r\n')
    sent = piece.length
  })
  return { status, sent: () => sent, close: () => sock.destroy() }
}
