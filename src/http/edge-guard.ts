/**
 * What a stranger can hold at the pod's edge (contract Part 1c, "Bounds"): per remote address at
 * most 64 requests in flight that have not authenticated yet (the next is answered 429 at once),
 * not counting requests on a connection where one already authenticated (a peer's keep-alive
 * re-ask: behind a tunnel every peer arrives from 127.0.0.1, and a hub's 2,000 live peers re-ask
 * together after every write). Bun does not show connections, so one is recognised by its
 * address and port, and only until it has been idle as long as the server allows (the port of a
 * closed connection may come back as a new one); a
 * request body must arrive within 10 s of its headers (408); and a connection whose request did
 * not authenticate (refused with 401, 413, 415 or 429, or simply unauthenticated like /healthz),
 * came too slowly or left its body unread is closed after the answer (`Connection: close`), so
 * nobody keeps a socket, idle or trickling a body the pod never reads.
 *
 * Authentication happens deeper (the admin token, a /peer/sync MAC): those places call
 * `authenticated(c)`. Silent connections (no request head yet) never reach the app: the runtime
 * adapter bounds those (src/runtime).
 */
import type { Context, MiddlewareHandler } from 'hono'
import { PodError } from '../lib/errors'
import { cancelQuietly, drainBriefly, LINGER_MAX_BYTES, LINGER_MS } from '../lib/read-body'
import type { ConnInfo } from '../runtime'
import { errorBody, jsonResponse } from './errors'

/** Requests per remote address that may be in flight before authenticating. */
export const UNAUTHENTICATED_PER_ADDRESS = 64
/**
 * Connections (address and port) remembered as authenticated. The runtime does not say when a
 * connection closes, so the oldest are forgotten past this many: their next request counts again.
 */
export const AUTHENTICATED_CONNECTIONS_KEPT = 65_536
/**
 * A remembered connection is forgotten once it has been idle this long (default; the pod passes
 * its server's idle timeout): the server has closed it by then, and a later connection from the
 * same port is a new one. Bun's default idle timeout.
 */
export const CONNECTION_IDLE_MS = 10_000
/** How long a request's body may take to arrive, from its headers. */
export const BODY_DEADLINE_MS = 10_000

/**
 * Answers after which even an authenticated connection closes: the relationship ended while a
 * long-poll was held (401), or its body came too slowly (408). An authenticated request refused
 * for its size (413) keeps its connection: the server reads the rest of the body past the cap
 * into the void, and the operator's client reads the answer that says which setting to raise
 * (closing on a client still sending makes the kernel reset the connection, answer and all).
 */
const closesEvenAuthenticated = (status: number) => status === 401 || status === 408

/** One request's place at the edge, from its headers to its answer. */
export interface EdgeSession {
  /** performance.now() when the request's headers arrived. */
  startedMs: number
  /** Releases this request's place among its address's unauthenticated ones (once). */
  release: (() => void) | null
  authenticated: boolean
  /** Remembers the connection as authenticated (null: the runtime did not name it). */
  onAuthenticated: (() => void) | null
  /** `address port` of the connection (null: the runtime did not name it). */
  conn: string | null
  /** The runtime's connection info (it may count authenticated connections itself). */
  info: ConnInfo | undefined
}

/** Where the guard keeps a request's session: one of Hono's per-request variables. */
type Guarded = Context<{ Variables: { edgeSession: EdgeSession } }>
const sessionOf = (c: Context): EdgeSession | undefined => (c as Guarded).get('edgeSession')

/** The request passed the admin token or a peer's MAC: its connection may stay open. */
export function authenticated(c: Context): void {
  const s = sessionOf(c)
  if (s) sessionAuthenticated(s)
  else (c.env as ConnInfo | undefined)?.authenticated?.()
}

/** authenticated() for a request served outside Hono (its session from EdgeGuard.admit). */
export function sessionAuthenticated(s: EdgeSession): void {
  s.info?.authenticated?.()
  if (s.authenticated) return
  s.authenticated = true
  s.release?.()
  s.release = null
  s.onAuthenticated?.()
}

/** Milliseconds left before the body of the request of `s` is late. */
export function sessionTimeLeftMs(s: EdgeSession | undefined, now = performance.now()): number {
  return s ? Math.max(0, s.startedMs + BODY_DEADLINE_MS - now) : BODY_DEADLINE_MS
}

/** Milliseconds left before this request's body is late (BODY_DEADLINE_MS when unguarded). */
export function bodyTimeLeftMs(c: Context, now = performance.now()): number {
  return sessionTimeLeftMs(sessionOf(c), now)
}

/** The body did not arrive in time: 408, and the connection closes. */
export class BodyTimeout extends PodError {
  constructor(what = 'request body') {
    super('body_timeout', `${what} did not arrive within ${BODY_DEADLINE_MS / 1000} s of its headers`)
  }
}

export interface EdgeGuardOptions {
  /** Default UNAUTHENTICATED_PER_ADDRESS. */
  unauthenticatedPerAddress?: number
  /** Told when an address reaches the cap, once until its count falls back to zero (the pod logs it). */
  onCapReached?(address: string): void
  /** Default AUTHENTICATED_CONNECTIONS_KEPT. */
  authenticatedConnectionsKept?: number
  /** The server's idle timeout in ms (default CONNECTION_IDLE_MS). */
  connectionIdleMs?: number
  /** The clock for connection idleness (default performance.now). */
  now?: () => number
}

/**
 * The first middleware of the pod's app. The runtime's connection info arrives as Hono's `c.env`
 * (app.fetch(req, conn)); without it (in-process requests, the Unix socket) there is no cap.
 */
export function edgeGuard(opts: EdgeGuardOptions = {}): MiddlewareHandler {
  return new EdgeGuard(opts).middleware()
}

/**
 * The guard's state (counts per address, authenticated connections) and its two steps, so a
 * route served outside Hono (/peer/sync) passes the same guard as the app: admit() when the
 * headers arrive, finish() with the answer.
 */
export class EdgeGuard {
  readonly #opts: EdgeGuardOptions
  readonly #cap: number
  readonly #kept: number
  readonly #idleMs: number
  readonly #clock: () => number
  readonly #inFlight = new Map<string, number>()
  /** `address port` of connections where a request authenticated → when they last answered, oldest first. */
  readonly #authenticatedConns = new Map<string, number>()
  /** Addresses told about since their count was last zero. */
  readonly #told = new Set<string>()

  constructor(opts: EdgeGuardOptions = {}) {
    this.#opts = opts
    this.#cap = opts.unauthenticatedPerAddress ?? UNAUTHENTICATED_PER_ADDRESS
    this.#kept = opts.authenticatedConnectionsKept ?? AUTHENTICATED_CONNECTIONS_KEPT
    this.#idleMs = opts.connectionIdleMs ?? CONNECTION_IDLE_MS
    this.#clock = opts.now ?? (() => performance.now())
  }

  /** The request's session, or the 429 to answer at once (its address is at the cap). */
  admit(raw: Request, info: ConnInfo | undefined): EdgeSession | Response {
    const address = info?.remoteAddress ?? null
    const port = address === null ? null : (info?.remotePort ?? null)
    const conn = port === null ? null : `${address} ${port}`
    // A request on a connection that already authenticated is not a stranger's: not counted.
    const counted = address !== null && (conn === null || !this.#stillAuthenticated(conn))
    if (counted) {
      const n = this.#inFlight.get(address) ?? 0
      if (n >= this.#cap) {
        if (!this.#told.has(address)) {
          this.#told.add(address)
          this.#opts.onCapReached?.(address)
        }
        cancelQuietly(raw.body)
        const message = `over ${this.#cap} unauthenticated requests in flight from ${address}; retry in a few seconds`
        return jsonResponse(errorBody('rate_limited', message), 429, { 'retry-after': String(BODY_DEADLINE_MS / 1000), connection: 'close' })
      }
      this.#inFlight.set(address, n + 1)
    }
    return {
      startedMs: performance.now(),
      release: counted ? () => this.#release(address) : null,
      authenticated: false,
      onAuthenticated: conn === null ? null : () => this.#remember(conn),
      conn,
      info,
    }
  }

  /** The answer as it goes out: the request's place released, its connection remembered or closed. */
  async finish(session: EdgeSession, raw: Request, res: Response): Promise<Response> {
    session.release?.()
    session.release = null
    const unread = bodyLeftUnread(raw)
    const closes = !session.authenticated || closesEvenAuthenticated(res.status) || unread
    // Closing: a later connection from this port is a new one. Kept open: idle from this answer
    // on, and closed by the server after its idle timeout at the latest.
    const conn = session.conn
    if (conn !== null) {
      if (closes) this.#authenticatedConns.delete(conn)
      else this.#remember(conn)
    }
    if (!closes) return res
    if (unread && declaredAtMost(raw, LINGER_MAX_BYTES)) await drainBriefly(raw.body, LINGER_MAX_BYTES, LINGER_MS)
    return closing(res)
  }

  /** The guard as the first middleware of a Hono app. */
  middleware(): MiddlewareHandler {
    return async (c, next) => {
      const raw = c.req.raw
      const session = this.admit(raw, c.env as ConnInfo | undefined)
      if (session instanceof Response) return session
      ;(c as Guarded).set('edgeSession', session)
      try {
        await next()
      } finally {
        session.release?.()
        session.release = null
      }
      const res = await this.finish(session, raw, c.res)
      if (res !== c.res) c.res = res
    }
  }

  #remember(conn: string): void {
    this.#authenticatedConns.delete(conn)
    this.#authenticatedConns.set(conn, this.#clock())
    if (this.#authenticatedConns.size > this.#kept) this.#authenticatedConns.delete(this.#authenticatedConns.keys().next().value!)
  }

  /** Still the connection that authenticated: remembered, and not idle long enough to have been closed. */
  #stillAuthenticated(conn: string): boolean {
    const last = this.#authenticatedConns.get(conn)
    if (last === undefined) return false
    if (this.#clock() - last <= this.#idleMs) return true
    this.#authenticatedConns.delete(conn)
    return false
  }

  #release(address: string): void {
    const n = (this.#inFlight.get(address) ?? 1) - 1
    if (n > 0) return void this.#inFlight.set(address, n)
    this.#inFlight.delete(address)
    this.#told.delete(address)
  }
}

/** A body declared no larger than `maxBytes`, or chunked (then drained up to it). */
function declaredAtMost(req: Request, maxBytes: number): boolean {
  return req.headers.has('transfer-encoding') || Number(req.headers.get('content-length') ?? 0) <= maxBytes
}

/** A request that declared a body nobody started to read: the server would go on receiving it. */
function bodyLeftUnread(req: Request): boolean {
  if (req.bodyUsed || req.body === null) return false
  return req.headers.has('transfer-encoding') || Number(req.headers.get('content-length') ?? 0) > 0
}

/** `res` with `Connection: close` (headers of a fetched or cloned Response may be immutable: copied then). */
function closing(res: Response): Response {
  try {
    res.headers.set('connection', 'close')
    return res
  } catch {
    const headers = new Headers(res.headers)
    headers.set('connection', 'close')
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers })
  }
}
