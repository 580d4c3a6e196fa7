/**
 * Reads an HTTP body (a fetch Response, or an incoming Request) with a byte cap counted as the
 * bytes arrive. `arrayBuffer()`/`text()` buffer whatever the other side sends before anyone can
 * look at the size, and Content-Length is absent from a chunked body (or a lie), so a hostile
 * server or client could make us hold gigabytes. Here a declared length over the cap is refused
 * before reading anything, and a stream is cancelled as soon as the running count passes the cap,
 * so at most `maxBytes` plus one chunk is ever held.
 */
import { TooLarge } from './errors'

/** A body larger than the caller's cap. Its code is `too_large` (HTTP 413 when mapped). */
export class BodyTooLarge extends TooLarge {
  constructor(
    readonly maxBytes: number,
    readonly seenBytes: number,
    what = 'body',
  ) {
    super(`${what} is over ${maxBytes} bytes (${seenBytes === Infinity ? 'unknown' : seenBytes}+ bytes sent)`)
  }
}

/** What the reader needs of a Response or a Request. */
export interface BodySource {
  readonly headers: Headers
  readonly body: ReadableStream<Uint8Array> | null
}

export interface ReadBodyOptions {
  /** Named in the error message: "response", "sync request", … */
  what?: string
  /**
   * Milliseconds the whole body may still take; past them the read is abandoned (the body
   * cancelled) and `onLate()` is thrown. A server bounds a trickled body this way.
   */
  deadlineMs?: number
  /** The error thrown when the deadline passes. */
  onLate?: () => Error
}

/** Thrown when a body's deadline passed and the caller named no error of its own. */
export class BodyLate extends Error {
  constructor(what = 'body') {
    super(`${what} did not arrive in time`)
  }
}

/** The declared Content-Length, or null when absent or not a plain decimal number. */
export function declaredLength(headers: Headers): number | null {
  const raw = headers.get('content-length')
  if (raw === null || !/^\s*\d{1,16}\s*$/.test(raw)) return null
  return Number(raw)
}

/**
 * True when the declared Content-Length already exceeds the cap. Lets a server refuse a body
 * without touching its stream; the stream check in readBody still applies to what follows.
 */
export function declaresOver(headers: Headers, maxBytes: number): boolean {
  const n = declaredLength(headers)
  return n !== null && n > maxBytes
}

/** The whole body as bytes, or BodyTooLarge once more than `maxBytes` arrived (the body is cancelled). */
export function readBody(source: BodySource, maxBytes: number, opts: ReadBodyOptions = {}): Promise<Uint8Array> {
  const deadlineMs = opts.deadlineMs
  if (deadlineMs === undefined) return readBodyUnbounded(source, maxBytes, opts.what ?? 'body')
  // Whichever comes first settles it: the read, or the deadline. One promise and one timer per
  // body (a peer's every ask comes through here), not a race of two.
  return new Promise<Uint8Array>((resolve, reject) => {
    const timer = setTimeout(() => {
      // The read in flight is left to fail when the connection closes; its rejection is handled below.
      cancelQuietly(source.body)
      reject(opts.onLate?.() ?? new BodyLate(opts.what))
    }, deadlineMs)
    readBodyUnbounded(source, maxBytes, opts.what ?? 'body').then(
      (bytes) => {
        clearTimeout(timer)
        resolve(bytes)
      },
      (err: unknown) => {
        clearTimeout(timer)
        reject(err)
      },
    )
  })
}

async function readBodyUnbounded(source: BodySource, maxBytes: number, what: string): Promise<Uint8Array> {
  const declared = declaredLength(source.headers)
  if (declared !== null && declared > maxBytes) {
    cancelQuietly(source.body)
    throw new BodyTooLarge(maxBytes, declared, what)
  }
  if (declared !== null && source instanceof Request && !source.headers.has('transfer-encoding')) {
    // An incoming request: the server's HTTP/1.1 framing hands us exactly the declared bytes
    // (already within the cap), so one read does. Read as a stream, a ~200-byte body cost Bun
    // 64–256 KiB of read buffers: an idle hub answering long-polls collected garbage once per ~70
    // requests for them (bench/live-cycle.bench.ts, BUN_JSC_logGC=1). A Response is always
    // counted as it streams: what a remote server declares is not framing we enforce.
    const bytes = new Uint8Array(await source.arrayBuffer())
    if (bytes.byteLength > maxBytes) throw new BodyTooLarge(maxBytes, bytes.byteLength, what)
    return bytes
  }
  const stream = source.body
  if (!stream) return new Uint8Array(0)
  const reader = stream.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      total += value.byteLength
      if (total > maxBytes) {
        chunks.length = 0 // drop what we hold before waiting on anything
        // An incoming body refused midway is still arriving: read on briefly (bounded) so the
        // connection the 413 closes is not reset under the client before it reads that answer.
        if (source instanceof Request) await discardBriefly(reader, LINGER_MAX_BYTES, LINGER_MS)
        // Not awaited: a hostile peer must not be able to hold us in cancel() either.
        reader.cancel().catch(() => {})
        throw new BodyTooLarge(maxBytes, total, what)
      }
      chunks.push(value)
    }
  } finally {
    reader.releaseLock()
  }
  return concat(chunks, total)
}

/** The body decoded as UTF-8 (invalid sequences become U+FFFD), with the same cap as readBody. */
export async function readBodyText(source: BodySource, maxBytes: number, opts: ReadBodyOptions = {}): Promise<string> {
  return new TextDecoder().decode(await readBody(source, maxBytes, opts))
}

/** How much of a refused or unread request body a server reads on, and for how long, before it closes. */
export const LINGER_MAX_BYTES = 64 * 1024
export const LINGER_MS = 250

/**
 * Reads and discards what arrives of `body` within `ms`, up to `maxBytes`, then cancels the rest.
 * Before closing a connection whose request body was never read: closed with unread input, the
 * kernel resets the connection, and the client may lose the answer already sent (a refused
 * peer would read `request_failed` instead of `unauthorized`). A small body is in by then.
 */
export async function drainBriefly(body: ReadableStream<Uint8Array> | null, maxBytes: number, ms: number): Promise<void> {
  if (!body || body.locked) return
  const reader = body.getReader()
  try {
    await discardBriefly(reader, maxBytes, ms)
  } finally {
    reader.cancel().catch(() => {})
    reader.releaseLock()
  }
}

/** Reads and drops chunks for at most `ms` or `maxBytes`; never throws (a client gone ends it). */
async function discardBriefly(reader: ReadableStreamDefaultReader<Uint8Array>, maxBytes: number, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), ms)
  })
  try {
    for (let seen = 0; seen <= maxBytes; ) {
      const next = await Promise.race([reader.read(), late])
      if (next === 'late' || next.done) break
      seen += next.value.byteLength
    }
  } catch {
    // the client went away: nothing left to drain
  } finally {
    clearTimeout(timer)
  }
}

/** Releases a body nobody will read (frees the connection's buffers); never throws. */
export function cancelQuietly(body: ReadableStream<Uint8Array> | null): void {
  if (!body || body.locked) return
  body.cancel().catch(() => {})
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!
  const out = new Uint8Array(total)
  let at = 0
  for (const c of chunks) {
    out.set(c, at)
    at += c.byteLength
  }
  return out
}
