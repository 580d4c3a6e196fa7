/**
 * One POST whose answer is read whole under a byte cap (read-body.ts), with a deadline for the
 * response headers apart from the whole request's: the transport of a /peer/sync round trip.
 * It runs on the main thread (peer-client.ts) or, under Deno, on a pull's own thread
 * (off-thread-fetch.ts), so what it returns and throws is plain data a thread can pass on.
 */
import { errnoName } from '../runtime/errno'
import { BodyTooLarge, readBody } from '../lib/read-body'

export interface BoundedRequest {
  url: string
  headers: Record<string, string>
  body: Uint8Array
  /** The whole request may take this long (ms), answer included. */
  timeoutMs: number
  /** The response headers must arrive within this (ms); undefined: no deadline of its own. */
  headersTimeoutMs?: number
  /** A longer answer is refused as it arrives (too_large), nothing of it kept. */
  maxBytes: number
}

export interface BoundedAnswer {
  status: number
  headers: Record<string, string>
  body: Uint8Array
}

/**
 * Why a bounded fetch failed. `phase`: before the response headers (`request`) or while reading
 * the answer (`body`). `detail` says it in words (the errno name when the connection failed).
 */
export interface FetchFailure {
  phase: 'request' | 'body'
  kind: 'timeout' | 'headers_timeout' | 'too_large' | 'failed'
  detail: string
}

export class BoundedFetchError extends Error {
  constructor(
    readonly failure: FetchFailure,
    options?: { cause?: unknown },
  ) {
    super(failure.detail, options)
  }
}

export async function boundedFetch(req: BoundedRequest, opts: { fetch?: typeof fetch; signal?: AbortSignal } = {}): Promise<BoundedAnswer> {
  // fetch has no connect timeout: this one is cleared as soon as the headers are in.
  const headersLate = headersDeadline(req.headersTimeoutMs)
  let res: Response
  try {
    res = await (opts.fetch ?? fetch)(req.url, {
      method: 'POST',
      headers: req.headers,
      body: req.body as Uint8Array<ArrayBuffer>,
      redirect: 'error', // a redirect could move the request to a host the operator did not name
      signal: anySignal(AbortSignal.timeout(req.timeoutMs), opts.signal, headersLate.signal),
    })
  } catch (cause) {
    const late = headersLate.fired()
    const timedOut = late || (cause instanceof Error && cause.name === 'TimeoutError')
    const detail = late ? `no answer within ${req.headersTimeoutMs} ms (connect timeout)` : describe(cause)
    throw new BoundedFetchError({ phase: 'request', kind: late ? 'headers_timeout' : timedOut ? 'timeout' : 'failed', detail }, { cause })
  } finally {
    headersLate.clear()
  }
  try {
    // Counted as it arrives and cancelled past the cap: a chunked answer can't make us buffer gigabytes.
    const body = await readBody(res, req.maxBytes, { what: 'response' })
    return { status: res.status, headers: Object.fromEntries(res.headers), body }
  } catch (cause) {
    const tooLarge = cause instanceof BodyTooLarge
    const timedOut = cause instanceof Error && cause.name === 'TimeoutError'
    const detail = tooLarge ? cause.message : `reading the response failed: ${describe(cause)}`
    throw new BoundedFetchError({ phase: 'body', kind: tooLarge ? 'too_large' : timedOut ? 'timeout' : 'failed', detail }, { cause })
  }
}

function anySignal(timeout: AbortSignal, ...others: (AbortSignal | undefined)[]): AbortSignal {
  const all = [timeout, ...others.filter((s): s is AbortSignal => s !== undefined)]
  return all.length === 1 ? timeout : AbortSignal.any(all)
}

/** An abort signal that fires after `ms` unless cleared first (undefined: never). */
function headersDeadline(ms: number | undefined): { signal?: AbortSignal; fired(): boolean; clear(): void } {
  if (ms === undefined) return { fired: () => false, clear: () => undefined }
  const ctl = new AbortController()
  const timer = setTimeout(() => ctl.abort(new DOMException('connect timeout', 'TimeoutError')), ms)
  return { signal: ctl.signal, fired: () => ctl.signal.aborted, clear: () => clearTimeout(timer) }
}

/** The errno name when the connection failed (the same on both runtimes), else what the error says. */
function describe(err: unknown): string {
  if (err instanceof Error) return errnoName(err) ?? (err as Error & { code?: string }).code ?? err.message
  return String(err)
}
