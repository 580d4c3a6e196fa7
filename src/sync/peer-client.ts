/**
 * One sealed, signed /peer/sync round trip: seal the request for this peer, sign the sealed
 * bytes with the pair key, send it, check the status, verify the response signature before
 * opening anything, open the answer and validate the page. The wire (schemas, limits,
 * signatures, seals) is src/protocol.
 */
import { shortId } from '../protocol'
import { BadInput, PeerError } from '../lib/errors'
import { BodyTooLarge, readBody } from '../lib/read-body'
import {
  BadSignature,
  commonProtocol,
  openSyncResponseAsync,
  PROTOCOL_HEADER,
  protocolMismatch,
  SealError,
  sealSyncRequest,
  SIGNATURE_HEADER,
  SUPPORTED_PROTOCOLS,
  SYNC_RESPONSE_MAX_BYTES,
  SYNC_ROUTE,
  type OutgoingSyncRequest,
  type PairKey,
  type PodId,
  type SyncResponse,
} from '../protocol'
import { LONG_POLL_SLACK_MS, REQUEST_TIMEOUT_MS } from './constants'
import { errnoName } from '../runtime'

export interface PullRequest {
  baseUrl: string
  pairKey: PairKey
  selfId: PodId
  peerId: PodId
  since: string | null
  scope: string[]
  limit: number
  /** Long-poll: seconds the peer may hold an empty answer (0..50, default 0). */
  wait?: number
  nowMs: number
  fetch?: typeof fetch
  timeoutMs?: number
  /** Aborts the request early (the pod is shutting down). */
  signal?: AbortSignal
  /** Extra request headers (per-peer secret headers); they never override the protocol's own. */
  headers?: Record<string, string>
  /**
   * Time allowed until the response headers arrive (plus `wait`), separate from the whole
   * request's timeout: a black-holed URL fails fast so the next URL still fits in the pull budget.
   */
  connectTimeoutMs?: number
  /** Protocol versions we may speak, preferred first (default SUPPORTED_PROTOCOLS); the first is asked for. */
  protocols?: readonly number[]
}

/** `https://h/prefix/` + `/peer/sync` → `https://h/prefix/peer/sync` (a proxy may mount us under a prefix). */
export function syncUrl(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '') + SYNC_ROUTE
}

export async function pullPage(req: PullRequest): Promise<SyncResponse> {
  return (await preparePull(req))()
}

/**
 * Seals and signs the request now and returns the function that sends it: calling it puts the
 * request on the wire at once, so a puller can fetch page n+1 while it stores page n.
 */
export async function preparePull(req: PullRequest): Promise<() => Promise<SyncResponse>> {
  const sent = sealSyncRequest({
    pairKey: req.pairKey,
    callerId: req.selfId,
    calleeId: req.peerId,
    request: { since: req.since, scope: req.scope, limit: req.limit, wait: req.wait },
    nowMs: req.nowMs,
  })
  return () => send(req, sent)
}

async function send(req: PullRequest, sent: OutgoingSyncRequest): Promise<SyncResponse> {
  const url = syncUrl(req.baseUrl)
  // fetch has no connect timeout: this one is cleared as soon as the headers are in.
  // A long-poll's headers come after its wait, plus however long a busy peer takes to answer it.
  const held = req.wait ? req.wait * 1000 + LONG_POLL_SLACK_MS : 0
  const connect = headersDeadline(req.connectTimeoutMs === undefined ? undefined : req.connectTimeoutMs + held)
  let res: Response
  try {
    res = await (req.fetch ?? fetch)(url, {
      method: 'POST',
      headers: requestHeaders(req, sent),
      body: sent.body as Uint8Array<ArrayBuffer>,
      redirect: 'error', // a redirect could move the request to a host the operator did not name
      // A held long-poll may legitimately take its whole wait before the answer starts.
      signal: anySignal(AbortSignal.timeout((req.timeoutMs ?? REQUEST_TIMEOUT_MS) + (req.wait ?? 0) * 1000), req.signal, connect.signal),
    })
  } catch (cause) {
    const timedOut = (cause instanceof Error && cause.name === 'TimeoutError') || connect.fired()
    const what = connect.fired() ? `no answer within ${req.connectTimeoutMs} ms (connect timeout)` : describe(cause)
    throw new PeerError(timedOut ? 'timeout' : 'request_failed', `POST ${url}: ${what}`, { cause })
  } finally {
    connect.clear()
  }
  let bytes: Uint8Array
  try {
    // Counted as it arrives and cancelled past the cap: a chunked answer can't make us buffer gigabytes.
    bytes = await readBody(res, SYNC_RESPONSE_MAX_BYTES, { what: 'response' })
  } catch (cause) {
    if (cause instanceof BodyTooLarge) throw new PeerError('too_large', `POST ${url}: ${cause.message}; nothing stored`, { cause })
    const timedOut = cause instanceof Error && cause.name === 'TimeoutError'
    throw new PeerError(timedOut ? 'timeout' : 'request_failed', `POST ${url}: reading the response failed: ${describe(cause)}`, { cause })
  }
  if (res.status === 400 && errorCode(bytes) === 'protocol_unsupported') return renegotiate(req, url, bytes)
  if (res.status === 401) {
    const code = errorCode(bytes)
    throw new PeerError(code === 'clock_skew' || code === 'replay' ? code : 'unauthorized', `POST ${url} → 401 ${code ?? ''}`.trim())
  }
  if (res.status !== 200) throw new PeerError(`http_${res.status}`, `POST ${url} → ${res.status} ${errorCode(bytes) ?? ''}`.trim())

  let page: SyncResponse
  try {
    page = await openSyncResponseAsync({ pairKey: req.pairKey, sent, body: bytes, signature: res.headers.get(SIGNATURE_HEADER) })
  } catch (cause) {
    if (cause instanceof BadSignature) throw new PeerError('bad_signature', `POST ${url}: response signature does not verify; nothing stored`, { cause })
    if (cause instanceof SealError) throw new PeerError('bad_response', `POST ${url}: ${cause.message}; nothing stored`, { cause })
    if (cause instanceof BadInput) throw new PeerError('bad_response', `POST ${url}: ${cause.issues[0] ?? cause.message}`, { cause })
    throw cause
  }
  if (page.pod_id !== req.peerId) throw new PeerError('bad_response', `POST ${url}: answered as pod ${shortId(page.pod_id)}`)
  return page
}

/**
 * The peer speaks none of the version we asked for: ask again at the highest version both speak
 * (a fresh nonce: the refusal came before the Bearer was read), or fail with both lists and which
 * side should upgrade.
 */
async function renegotiate(req: PullRequest, url: string, bytes: Uint8Array): Promise<SyncResponse> {
  const ours = req.protocols ?? SUPPORTED_PROTOCOLS
  const theirs = supportedOf(bytes)
  const common = theirs.length > 0 ? commonProtocol(ours, theirs) : null
  if (common !== null && common !== ours[0]) return pullPage({ ...req, protocols: [common] })
  const why = theirs.length > 0 ? protocolMismatch(ours, theirs) : `the peer refused protocol ${ours[0]} and named none it speaks`
  throw new PeerError('protocol_unsupported', `POST ${url} → 400 protocol_unsupported: ${why}`)
}

/** The caller's extra headers, then ours: the protocol's own headers always win, whatever their case. */
function requestHeaders(req: PullRequest, sent: OutgoingSyncRequest): Headers {
  const headers = new Headers(req.headers)
  for (const [name, value] of Object.entries(sent.headers)) headers.set(name, value)
  headers.set(PROTOCOL_HEADER, String((req.protocols ?? SUPPORTED_PROTOCOLS)[0]))
  return headers
}

/** `supported` of a protocol_unsupported answer: the versions the peer speaks (integers only). */
function supportedOf(bytes: Uint8Array): number[] {
  try {
    const j = JSON.parse(new TextDecoder().decode(bytes)) as { supported?: unknown }
    return Array.isArray(j.supported) ? j.supported.filter((v): v is number => Number.isSafeInteger(v) && v > 0).slice(0, 16) : []
  } catch {
    return []
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

function errorCode(bytes: Uint8Array): string | undefined {
  try {
    const j = JSON.parse(new TextDecoder().decode(bytes)) as { error?: unknown }
    return typeof j.error === 'string' ? j.error : undefined
  } catch {
    return undefined
  }
}

/** The errno name when the connection failed (the same on both runtimes), else what the error says. */
function describe(err: unknown): string {
  if (err instanceof Error) return errnoName(err) ?? (err as Error & { code?: string }).code ?? err.message
  return String(err)
}
