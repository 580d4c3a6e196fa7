/**
 * One signed /peer/sync round trip: sign the request with the pair key, send it, check the
 * status, verify the response signature before reading anything, validate the page. The wire
 * (schemas, limits, signatures) is src/protocol.
 */
import { BadInput, PeerError } from '../lib/errors'
import { BodyTooLarge, readBody } from '../lib/read-body'
import {
  decodeSyncResponse,
  encodeSyncRequest,
  JSON_CONTENT_TYPE,
  signRequest,
  SIGNATURE_HEADER,
  SYNC_RESPONSE_MAX_BYTES,
  SYNC_ROUTE,
  verifyResponse,
  type PairKey,
  type PodId,
  type SyncResponse,
} from '../protocol'
import { REQUEST_TIMEOUT_MS } from './constants'

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
}

/** `https://h/prefix/` + `/peer/sync` → `https://h/prefix/peer/sync` (a proxy may mount us under a prefix). */
export function syncUrl(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '') + SYNC_ROUTE
}

export async function pullPage(req: PullRequest): Promise<SyncResponse> {
  return (await preparePull(req))()
}

/**
 * Signs the request now and returns the function that sends it: calling it puts the request on
 * the wire at once, so a puller can fetch page n+1 while it stores page n.
 */
export async function preparePull(req: PullRequest): Promise<() => Promise<SyncResponse>> {
  const body = encodeSyncRequest({ since: req.since, scope: req.scope, limit: req.limit, wait: req.wait })
  const { authorization, nonce } = signRequest({
    pairKey: req.pairKey,
    method: 'POST',
    route: SYNC_ROUTE,
    callerId: req.selfId,
    calleeId: req.peerId,
    body,
    nowMs: req.nowMs,
  })
  return () => send(req, body, authorization, nonce)
}

async function send(req: PullRequest, body: Uint8Array, authorization: string, nonce: string): Promise<SyncResponse> {
  const url = syncUrl(req.baseUrl)
  let res: Response
  try {
    res = await (req.fetch ?? fetch)(url, {
      method: 'POST',
      headers: requestHeaders(req.headers, authorization),
      body: body as Uint8Array<ArrayBuffer>,
      redirect: 'error', // a redirect could move the request to a host the operator did not name
      signal: anySignal(AbortSignal.timeout(req.timeoutMs ?? REQUEST_TIMEOUT_MS), req.signal),
    })
  } catch (cause) {
    const timedOut = cause instanceof Error && cause.name === 'TimeoutError'
    throw new PeerError(timedOut ? 'timeout' : 'request_failed', `POST ${url}: ${describe(cause)}`, { cause })
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
  if (res.status === 401) {
    const code = errorCode(bytes)
    throw new PeerError(code === 'clock_skew' || code === 'replay' ? code : 'unauthorized', `POST ${url} → 401 ${code ?? ''}`.trim())
  }
  if (res.status !== 200) throw new PeerError(`http_${res.status}`, `POST ${url} → ${res.status}`)

  if (!verifyResponse(req.pairKey, nonce, bytes, res.headers.get(SIGNATURE_HEADER))) {
    throw new PeerError('bad_signature', `POST ${url}: response signature does not verify; nothing stored`)
  }
  let page: SyncResponse
  try {
    page = decodeSyncResponse(bytes)
  } catch (cause) {
    if (cause instanceof BadInput) throw new PeerError('bad_response', `POST ${url}: ${cause.issues[0] ?? cause.message}`, { cause })
    throw cause
  }
  if (page.pod_id !== req.peerId) throw new PeerError('bad_response', `POST ${url}: answered as pod ${page.pod_id.slice(0, 8)}`)
  return page
}

/** The caller's extra headers, then ours: the protocol's own headers always win, whatever their case. */
function requestHeaders(extra: Record<string, string> | undefined, authorization: string): Headers {
  const headers = new Headers(extra)
  headers.set('authorization', authorization)
  headers.set('content-type', JSON_CONTENT_TYPE)
  return headers
}

function anySignal(timeout: AbortSignal, other: AbortSignal | undefined): AbortSignal {
  return other ? AbortSignal.any([timeout, other]) : timeout
}

function errorCode(bytes: Uint8Array): string | undefined {
  try {
    const j = JSON.parse(new TextDecoder().decode(bytes)) as { error?: unknown }
    return typeof j.error === 'string' ? j.error : undefined
  } catch {
    return undefined
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return (err as Error & { code?: string }).code ?? err.message
  return String(err)
}
