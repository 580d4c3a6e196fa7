/**
 * The HTTP server under Deno: node:http, which Deno runs over real sockets, rather than
 * Deno.serve, which hides them. Deno.serve keeps a connection that never sends a request head
 * for ever, keeps one whose request was refused for as long as the client trickles a body
 * (whatever `Connection: close` says), and ends its listener for good at the first EMFILE. Here
 * every socket is seen:
 * - a connection must send a request head within HEAD_TIMEOUT_MS of opening;
 * - per remote address at most `unauthenticatedPerAddress` connections may be open before one of
 *   their requests authenticates (ConnInfo.authenticated); more are closed as they come;
 * - open connections stay under `maxConnections` (the open-file limit less a reserve), so accept()
 *   never meets EMFILE: a node:http listener in Deno 2.9 that did stops accepting, silently.
 * An answer with `Connection: close` closes the socket once written, body read or not.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { Readable } from 'node:stream'
import type { ConnInfo, Server, ServeOptions } from './types'

/** A connection that has sent no complete request head by then is closed. */
export const HEAD_TIMEOUT_MS = 10_000

interface SocketState {
  address: string | null
  authenticated: boolean
  headTimer: ReturnType<typeof setTimeout> | undefined
}

export async function serveNodeHttp(opts: ServeOptions): Promise<Server> {
  const states = new WeakMap<Socket, SocketState>()
  const unauthenticated = new Map<string, number>()
  const perAddress = opts.unauthenticatedPerAddress ?? Number.POSITIVE_INFINITY
  const maxConnections = opts.maxConnections ?? Number.POSITIVE_INFINITY
  let open = 0
  /** Connections went past maxConnections: accept() may have met EMFILE on the way. */
  let pressed = false
  let stopped = false

  const release = (state: SocketState) => {
    if (state.authenticated || state.address === null) return
    state.authenticated = true
    const n = (unauthenticated.get(state.address) ?? 1) - 1
    if (n > 0) unauthenticated.set(state.address, n)
    else unauthenticated.delete(state.address)
  }

  const server = createServer((req, res) => void answer(req, res))
  server.on('connection', (socket: Socket) => {
    open++
    const address = socket.remoteAddress ?? null
    const state: SocketState = { address, authenticated: address === null, headTimer: undefined }
    socket.once('close', () => {
      open--
      clearTimeout(state.headTimer)
      release(state)
      if (pressed && open < maxConnections / 2) {
        pressed = false
        relisten()
      }
    })
    if (address !== null) unauthenticated.set(address, (unauthenticated.get(address) ?? 0) + 1)
    if (open > maxConnections) {
      pressed = true
      opts.onOverload?.({ reason: 'connections', open, limit: maxConnections })
      socket.destroy()
      return
    }
    if (address !== null && unauthenticated.get(address)! > perAddress) {
      opts.onOverload?.({ reason: 'address', address, open: unauthenticated.get(address)!, limit: perAddress })
      socket.destroy()
      return
    }
    state.headTimer = setTimeout(() => socket.destroy(), HEAD_TIMEOUT_MS)
    states.set(socket, state)
  })

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const state = states.get(req.socket as Socket)
    if (state) {
      clearTimeout(state.headTimer)
      state.headTimer = undefined
    }
    const aborted = new AbortController()
    res.once('close', () => {
      if (!res.writableFinished) aborted.abort()
    })
    let response: Response
    try {
      const max = opts.maxRequestBodySize
      if (max !== undefined && Number(req.headers['content-length'] ?? 0) > max) {
        response = Response.json({ error: 'too_large', message: `request body is over ${max} bytes` }, { status: 413, headers: { connection: 'close' } })
      } else {
        const remotePort = state?.address == null ? null : (req.socket.remotePort ?? null)
        const conn: ConnInfo = { remoteAddress: state?.address ?? null, remotePort, authenticated: () => state && release(state) }
        response = await opts.fetch(toRequest(req, aborted.signal), conn)
      }
    } catch (err) {
      response = await opts.onError(err instanceof Error ? err : new Error(String(err)))
    }
    await send(response, res)
  }

  /**
   * A burst of connections is accepted natively before any 'connection' event runs, so accept()
   * can meet EMFILE before the cap closes anything; the listener then never accepts again. Once
   * the burst is over, listen afresh on the same address (connections open stay as they are),
   * again a second later while that fails. TCP only: nobody floods the home's Unix socket.
   */
  const relisten = () => {
    if (stopped || opts.unix !== undefined) return
    server.close()
    listen(server, { ...opts, port: bound.port }).catch(() => setTimeout(relisten, 1_000))
  }

  await listen(server, opts)
  const bound = { port: (server.address() as { port?: number } | null)?.port ?? 0 }
  const addr = server.address()
  return {
    hostname: typeof addr === 'object' && addr ? addr.address : '',
    port: typeof addr === 'object' && addr ? addr.port : 0,
    unix: opts.unix ?? null,
    stop: () =>
      new Promise<void>((resolve) => {
        stopped = true
        server.close(() => resolve())
        server.closeIdleConnections()
      }),
  }
}

/** Binds; a taken address rejects with an Error whose code is EADDRINUSE (as Bun reports it). */
function listen(server: ReturnType<typeof createServer>, opts: ServeOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    const done = () => {
      server.off('error', reject)
      resolve()
    }
    if (opts.unix !== undefined) server.listen(opts.unix, done)
    else server.listen(opts.port ?? 0, opts.hostname ?? '127.0.0.1', done)
  })
}

function toRequest(req: IncomingMessage, signal: AbortSignal): Request {
  const headers = new Headers()
  const raw = req.rawHeaders
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!)
  const method = req.method ?? 'GET'
  const body = method === 'GET' || method === 'HEAD' ? null : (Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>)
  // A client speaking through a proxy (Deno's fetch over a Unix socket) sends the absolute form.
  const target = req.url ?? '/'
  const url = /^https?:\/\//i.test(target) ? target : `http://${req.headers.host ?? 'localhost'}${target}`
  return new Request(url, { method, headers, body, signal, duplex: 'half' } as RequestInit)
}

/**
 * Writes `response` to `res`, streaming its body with backpressure; a client gone cancels it. A
 * body that is whole at once (JSON, text) goes out with Content-Length; a stream (events) is
 * flushed chunk by chunk as it comes.
 */
async function send(response: Response, res: ServerResponse): Promise<void> {
  res.statusCode = response.status
  if (response.statusText) res.statusMessage = response.statusText
  response.headers.forEach((value, key) => {
    if (key !== 'set-cookie') res.setHeader(key, value)
  })
  const cookies = response.headers.getSetCookie()
  if (cookies.length > 0) res.setHeader('set-cookie', cookies)
  if (!response.body) {
    res.end()
    return
  }
  const reader = response.body.getReader()
  const gone = new Promise<'gone'>((resolve) => res.once('close', () => resolve('gone')))
  const soon = () => new Promise<'later'>((resolve) => setImmediate(() => resolve('later')))
  try {
    const first = await Promise.race([reader.read(), gone])
    if (first === 'gone') return void reader.cancel().catch(() => {})
    if (first.done) return void res.end()
    const second = reader.read()
    const next = await Promise.race([second, soon(), gone])
    if (next === 'gone') return void reader.cancel().catch(() => {})
    if (next !== 'later' && next.done) return void res.end(first.value) // Content-Length set by node
    res.write(first.value)
    type Step = Awaited<ReturnType<typeof reader.read>> | 'gone'
    for (let step: Step = next === 'later' ? await Promise.race([second, gone]) : next; ; ) {
      if (step === 'gone') break
      if (step.done) return void res.end()
      if (!res.write(step.value)) {
        const drained = await Promise.race([new Promise<'drain'>((resolve) => res.once('drain', () => resolve('drain'))), gone])
        if (drained === 'gone') break
      }
      step = await Promise.race([reader.read(), gone])
    }
  } catch {
    res.destroy()
  }
  reader.cancel().catch(() => {})
}
