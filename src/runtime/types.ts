/**
 * The one interface the rest of src/ sees of its JavaScript runtime: an HTTP server (TCP or Unix
 * socket), SQLite, UUID v7, stdin, terminal string width, process spawn and how to run this
 * program again. bun.ts and deno.ts implement it; index.ts picks one at start-up.
 */

import type { KeyObject } from 'node:crypto'

/** One HTTP request over a Unix socket (see Runtime.unixFetch). */
export type UnixFetch = (path: string, init?: RequestInit) => Promise<Response>

/** What SQLite binds and returns. Booleans are not bound: store 0/1 explicitly. */
export type SqlValue = string | number | bigint | null | Uint8Array

export interface RunResult {
  changes: number
  lastInsertRowid: number | bigint
}

/**
 * A prepared statement. Positional `?` parameters; rows come back as plain objects keyed by
 * column name (integers as numbers), `get` returns null when there is no row.
 */
export interface Statement<Row = unknown, Params extends SqlValue[] = SqlValue[]> {
  run(...params: Params): RunResult
  get(...params: Params): Row | null
  all(...params: Params): Row[]
}

/**
 * `fn` wrapped in a transaction: calling it (or `.deferred(...)`) runs BEGIN … COMMIT,
 * `.immediate(...)` runs BEGIN IMMEDIATE … COMMIT. A throw rolls back and rethrows. Called inside another
 * transaction it becomes a SAVEPOINT, so helpers that write can nest.
 */
export interface Transaction<A extends unknown[], R> {
  (...args: A): R
  deferred(...args: A): R
  immediate(...args: A): R
}

export interface SqliteDatabase {
  /** A prepared statement, cached by SQL text for the connection's lifetime. */
  query<Row = unknown, Params extends SqlValue[] = SqlValue[]>(sql: string): Statement<Row, Params>
  /** Runs one or more statements without parameters (PRAGMAs, schema scripts). */
  exec(sql: string): void
  transaction<A extends unknown[], R>(fn: (...args: A) => R): Transaction<A, R>
  close(): void
}

export interface OpenSqliteOptions {
  /** Open read-only; the file must exist. Default false (read-write, created when missing). */
  readonly?: boolean
}

/** What a request handler learns about the connection. */
export interface ConnInfo {
  /** The client's IP address; null on a Unix socket or when the runtime cannot tell. */
  remoteAddress: string | null
  /**
   * The client's port: with the address it names the connection (a keep-alive connection keeps
   * both); null where remoteAddress is null.
   */
  remotePort: number | null
  /**
   * The request passed authentication: its connection no longer counts toward
   * `unauthenticatedPerAddress`. Absent where the runtime does not count connections (Bun).
   */
  authenticated?(): void
}

/** Why a runtime closed a connection as it came (see ServeOptions.onOverload). */
export type Overload = { reason: 'connections'; open: number; limit: number } | { reason: 'address'; address: string; open: number; limit: number }

export interface ServeOptions {
  /** TCP: the address to bind (default 127.0.0.1) … */
  hostname?: string
  /** … and the port, 0 = any free one. */
  port?: number
  /** A Unix socket path instead of TCP. */
  unix?: string
  fetch(req: Request, conn: ConnInfo): Response | Promise<Response>
  /** Bodies declared larger are refused with 413 before `fetch` runs (the app keeps its own limits). */
  maxRequestBodySize?: number
  /** The answer when `fetch` throws. */
  onError(err: Error): Response | Promise<Response>
  /**
   * Seconds a connection may send and receive nothing before the server drops it (Bun's default
   * is 10 s; a held long-poll needs more than its wait). Under Deno a connection idle between
   * requests closes after a few seconds, one that never sends a request head after 10 s.
   */
  idleTimeoutSeconds?: number
  /**
   * Connections per remote address open before any of their requests authenticated; more are
   * closed as they come. Where the runtime sees connections (Deno); Bun's server does not show
   * them, the app counts requests instead (src/http/edge-guard.ts).
   */
  unauthenticatedPerAddress?: number
  /** Open connections at most (the open-file limit less a reserve); more are closed as they come (Deno). */
  maxConnections?: number
  /** A connection was closed as it came, for `Overload.reason`. */
  onOverload?(overload: Overload): void
}

/** A listening server. A taken address rejects with an Error whose `code` is 'EADDRINUSE'. */
export interface Server {
  /** The bound address ('' on a Unix socket). */
  hostname: string
  /** The bound port (0 on a Unix socket). */
  port: number
  /** The socket path, or null on TCP. */
  unix: string | null
  /** Stops accepting, lets requests in flight finish, then resolves. */
  stop(): Promise<void>
}

export interface SpawnOptions {
  cwd?: string
  env?: Record<string, string>
  /** Default 'ignore' for all three. */
  stdin?: 'ignore' | 'inherit'
  stdout?: 'ignore' | 'inherit'
  stderr?: 'ignore' | 'inherit'
}

export interface ChildProcess {
  pid: number
  /** Resolves with the exit code (128 + n when killed by signal n). */
  exited: Promise<number>
  kill(signal?: 'SIGTERM' | 'SIGKILL' | 'SIGINT'): void
  /** Lets this process exit without waiting for the child. */
  unref(): void
}

export interface Runtime {
  readonly name: 'bun' | 'deno'
  /** Listens; resolves once connections are accepted. */
  serve(opts: ServeOptions): Promise<Server>
  openSqlite(path: string, opts?: OpenSqliteOptions): SqliteDatabase
  /** An RFC 9562 UUID v7 for `nowMs` (default Date.now()), monotonic within one millisecond. */
  uuidv7(nowMs?: number): string
  /** All of stdin as UTF-8. */
  readStdin(): Promise<string>
  /** Terminal columns `s` takes (wide CJK and emoji count 2, combining marks 0, ANSI escapes 0). */
  stringWidth(s: string): number
  /**
   * A fetch over the Unix socket at `socket`: each call is one HTTP request, `path` its path and
   * query (the host is irrelevant on a socket). Its connections belong to the function returned
   * (Deno keeps one HTTP client per fetcher, reused like fetch's own pool), so whoever makes one
   * owns them. When nothing listens there a call rejects with an Error whose `code` is ENOENT (no
   * socket file) or ECONNREFUSED (a leftover socket file), on both runtimes.
   */
  unixFetch(socket: string): UnixFetch
  /** Spawns `cmd`; throws when the executable cannot be started. */
  spawn(cmd: string[], opts?: SpawnOptions): ChildProcess
  /** The argv prefix that runs this program again (the binary alone when compiled). */
  selfCommand(): string[]
  /**
   * Resolves once requests started in this turn (fetch) are on the wire. Bun's fetch sends from
   * its own thread at once; Deno's sends nothing until the event loop turns, so a caller that
   * starts a request and then works synchronously (a pull storing page n while page n+1 is
   * served) awaits this in between, or the peer only hears of the request after that work.
   */
  letIoRun(): Promise<void>
  /**
   * fetch runs on the main thread's event loop (Deno): while the main thread works, no request
   * leaves and no answer is read. A pull of many pages then fetches from a worker
   * (src/sync/off-thread-fetch.ts). False where fetch has its own thread (Bun).
   */
  readonly fetchOnMainThread: boolean
  /**
   * HMAC-SHA256 of `message` (UTF-8) under the raw `key`, and hex(SHA-256) of `data` (a string as
   * UTF-8), where the runtime has them natively at lower cost than node:crypto's objects (every
   * /peer/sync request verifies one MAC and every answer signs one, each over a body hash); null:
   * node:crypto.
   */
  readonly hmacSha256: ((key: Uint8Array, message: string) => Uint8Array) | null
  /** hex(HMAC-SHA256) the same way (the blind index hashes a word of every private memory). */
  readonly hmacSha256Hex: ((key: Uint8Array, message: string) => string) | null
  readonly sha256Hex: ((data: string | Uint8Array) => string) | null
  /**
   * AES-256-GCM decryption of `data` (ciphertext ‖ 16-byte tag), rejecting when the tag does not
   * verify, off the main thread; null where node:crypto's synchronous Decipheriv is the cheaper
   * way (Bun: 2 ms for a 100k pull's pages, against Deno's 0.13 s on the main thread).
   */
  readonly decryptAesGcm: ((key: KeyObject, iv: Uint8Array, data: Uint8Array, aad: Uint8Array) => Promise<Uint8Array>) | null
  /**
   * AES-256-GCM encryption of `plain` into ciphertext ‖ 16-byte tag, off the main thread; null
   * where node:crypto's synchronous Cipheriv is the cheaper way. Deno's Cipheriv seals a 230 KB
   * page in 1.9 ms on the main thread (Bun's: 0.16 ms), its Web Crypto in 0.6 ms off it; below
   * about 20 KB Web Crypto's fixed cost (about 170 µs a call) loses, so callers seal small
   * bodies synchronously (seal.ts).
   */
  readonly encryptAesGcm: ((key: KeyObject, iv: Uint8Array, plain: Uint8Array, aad: Uint8Array) => Promise<Uint8Array>) | null
}
