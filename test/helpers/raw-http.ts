/**
 * The tests' one raw HTTP/1.1 client, over node:net: it sends headers first and the body only
 * when told (or never), so a test can see whether a server answers before reading a body, and
 * hold many half-sent bodies open at once. fetch() cannot do either. It imports nothing from
 * src/, so the contract-only tests in test/adversary may use it too.
 */
import { connect, type Socket } from 'node:net'

export interface RawRequest {
  socket: Socket
  /** Resolves with the status line's code once the pod answers (null if it closed first). */
  status: Promise<number | null>
  /** Resolves once the connection is closed (by either side). */
  closed: Promise<void>
  /** Everything the pod has sent back so far. */
  received(): string
  /** Writes `bytes` of body (chunked framing if the request is chunked), respecting backpressure. */
  sendBody(bytes: number, chunkBytes?: number): Promise<number>
  /** Bytes of body written so far. */
  sent(): number
  close(): void
}

/**
 * Opens a connection to `baseUrl` and sends the request line and headers only. `from` is the
 * local address to connect from (any 127.x.y.z on Linux), so one test can be several clients.
 */
export async function rawRequest(
  baseUrl: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  opts: { from?: string } = {},
): Promise<RawRequest> {
  const url = new URL(baseUrl)
  const socket = connect({ host: url.hostname, port: Number(url.port), ...(opts.from ? { localAddress: opts.from } : {}) })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  socket.on('error', () => undefined) // the pod may reset a connection it refused
  const chunked = (headers['transfer-encoding'] ?? '').toLowerCase() === 'chunked'
  let text = ''
  let sent = 0
  let closed = false
  let answered = false
  const status = new Promise<number | null>((resolve) => {
    socket.on('data', (d) => {
      text += d.toString('latin1')
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text)
      if (m) {
        answered = true
        resolve(Number(m[1]))
      }
    })
    socket.on('close', () => {
      closed = true
      resolve(null)
    })
  })
  const whenClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  const head = [`${method} ${path} HTTP/1.1`, `host: ${url.host}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n')
  socket.write(head)
  return {
    socket,
    status,
    closed: whenClosed,
    received: () => text,
    sent: () => sent,
    async sendBody(bytes, chunkBytes = 64 * 1024) {
      const chunk = Buffer.alloc(chunkBytes, 0x61)
      let left = bytes
      while (left > 0 && !closed && !answered && !socket.destroyed) {
        const n = Math.min(left, chunkBytes)
        const piece = chunk.subarray(0, n)
        const framed = chunked ? Buffer.concat([Buffer.from(`${n.toString(16)}\r\n`), piece, Buffer.from('\r\n')]) : piece
        const ok = socket.write(framed)
        sent += n
        left -= n
        if (!ok) {
          const drained = await Promise.race([
            new Promise<boolean>((r) => socket.once('drain', () => r(true))),
            new Promise<boolean>((r) => socket.once('close', () => r(false))),
            status.then(() => false),
          ])
          if (!drained) break
        }
      }
      return sent
    },
    close() {
      socket.destroy()
    },
  }
}

/**
 * Sends the head of a request whose body is declared (Content-Length) or chunked to be
 * `declaredBytes` long, then `firstBytes` of it, and nothing more: a server that waits for the
 * whole body never answers. Content-Type is application/json unless `headers` names one.
 */
export async function sendPartial(opts: {
  url: string
  method?: string
  path: string
  headers?: Record<string, string>
  declaredBytes: number
  firstBytes: number
  chunked?: boolean
}): Promise<RawRequest> {
  const headers: Record<string, string> = {}
  if (!Object.keys(opts.headers ?? {}).some((k) => k.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json'
  Object.assign(headers, opts.headers)
  if (opts.chunked) headers['transfer-encoding'] = 'chunked'
  else headers['content-length'] = String(opts.declaredBytes)
  const req = await rawRequest(opts.url, opts.method ?? 'POST', opts.path, headers)
  await req.sendBody(opts.firstBytes)
  return req
}

/** Resolves with the value or with `fallback` after `ms`. */
export function within<T, F>(p: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  return Promise.race([p, new Promise<F>((r) => setTimeout(() => r(fallback), ms))])
}

/** A connection that sends nothing at all; `closed` resolves when the server closes it. */
export async function openSilent(baseUrl: string, from?: string): Promise<{ socket: Socket; closed: Promise<void> }> {
  const url = new URL(baseUrl)
  const socket = connect({ host: url.hostname, port: Number(url.port), ...(from ? { localAddress: from } : {}) })
  socket.on('error', () => undefined)
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  await Promise.race([new Promise<void>((resolve) => socket.once('connect', () => resolve())), closed])
  return { socket, closed }
}
