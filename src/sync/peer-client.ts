/**
 * One sealed, signed /peer/sync round trip: seal the request for this peer, sign the sealed
 * bytes with the pair key, send it, check the status, verify the response signature before
 * opening anything, open the answer and validate the page. The wire (schemas, limits,
 * signatures, seals) is src/protocol.
 */
import { shortId } from '../protocol'
import { BadInput, PeerError } from '../lib/errors'
import {
  BadSignature,
  commonProtocol,
  decodeOpenedAnswer,
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
  type SyncRequestInput,
  type SyncResponse,
} from '../protocol'
import { LONG_POLL_SLACK_MS, REQUEST_TIMEOUT_MS } from './constants'
import { BoundedFetchError, type BoundedRequest, boundedFetch } from './bounded-fetch'
import type { OffThreadAnswer, OffThreadFetch } from './off-thread-fetch'

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
  /** Send it from this thread instead of the main thread's fetch (a pull of many pages under Deno). */
  offThread?: OffThreadFetch
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
 * request on the wire at once, so a puller can fetch page n+1 while it stores page n. A request
 * sent from a fetch thread (`offThread`) is sealed and signed there, when it is sent.
 */
export async function preparePull(req: PullRequest): Promise<() => Promise<SyncResponse>> {
  const request = { since: req.since, scope: req.scope, limit: req.limit, wait: req.wait }
  if (req.offThread) return () => send(req, request, null)
  const sent = sealSyncRequest({ pairKey: req.pairKey, callerId: req.selfId, calleeId: req.peerId, request, nowMs: req.nowMs })
  return () => send(req, request, sent)
}

/** Sends the request, `sent` sealed and signed here, or (null) by the fetch thread that sends it. */
async function send(req: PullRequest, syncRequest: SyncRequestInput, sent: OutgoingSyncRequest | null): Promise<SyncResponse> {
  const url = syncUrl(req.baseUrl)
  // A long-poll's headers come after its wait, plus however long a busy peer takes to answer it.
  const held = req.wait ? req.wait * 1000 + LONG_POLL_SLACK_MS : 0
  const request: BoundedRequest = {
    url,
    headers: requestHeaders(req, sent),
    body: sent?.body ?? new Uint8Array(0), // the fetch thread that seals makes it
    // A held long-poll may legitimately take its whole wait before the answer starts.
    timeoutMs: (req.timeoutMs ?? REQUEST_TIMEOUT_MS) + (req.wait ?? 0) * 1000,
    headersTimeoutMs: req.connectTimeoutMs === undefined ? undefined : req.connectTimeoutMs + held,
    maxBytes: SYNC_RESPONSE_MAX_BYTES,
  }
  let res: OffThreadAnswer
  try {
    // On the fetch thread, a 200's signature and seal are checked there too (fetch-worker.ts).
    res = req.offThread
      ? await req.offThread.fetch(request, req.signal, {
          pairKey: req.pairKey.bytes(),
          callerId: req.selfId,
          calleeId: req.peerId,
          request: syncRequest,
          nowMs: req.nowMs,
        })
      : await boundedFetch(request, { fetch: req.fetch, signal: req.signal })
  } catch (cause) {
    if (!(cause instanceof BoundedFetchError)) throw cause
    const { phase, kind, detail } = cause.failure
    const code = kind === 'too_large' ? 'too_large' : kind === 'failed' ? 'request_failed' : 'timeout'
    const what = phase === 'body' && kind === 'too_large' ? `${detail}; nothing stored` : detail
    throw new PeerError(code, `POST ${url}: ${what}`, { cause: cause.cause ?? cause })
  }
  const bytes = res.body
  if (res.status === 400 && errorCode(bytes) === 'protocol_unsupported') return renegotiate(req, url, bytes)
  if (res.status === 401) {
    const code = errorCode(bytes)
    throw new PeerError(code === 'clock_skew' || code === 'replay' ? code : 'unauthorized', `POST ${url} → 401 ${code ?? ''}`.trim())
  }
  if (res.status !== 200) throw new PeerError(`http_${res.status}`, `POST ${url} → ${res.status} ${errorCode(bytes) ?? ''}`.trim())

  let page: SyncResponse
  try {
    if (res.opened) page = decodeOpenedAnswer(res.opened)
    else if (sent)
      page = await openSyncResponseAsync({ pairKey: req.pairKey, sent, body: bytes, signature: res.headers[SIGNATURE_HEADER.toLowerCase()] ?? null })
    else throw new Error('the fetch thread answered 200 without opening the answer')
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

/**
 * The caller's extra headers, then ours: the protocol's own headers always win, whatever their
 * case. Names come out lowercase (a fetch thread that seals adds its two over them as they are).
 */
function requestHeaders(req: PullRequest, sent: OutgoingSyncRequest | null): Record<string, string> {
  const headers = new Headers(req.headers)
  for (const [name, value] of Object.entries(sent?.headers ?? {})) headers.set(name, value)
  headers.set(PROTOCOL_HEADER, String((req.protocols ?? SUPPORTED_PROTOCOLS)[0]))
  return Object.fromEntries(headers)
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

function errorCode(bytes: Uint8Array): string | undefined {
  try {
    const j = JSON.parse(new TextDecoder().decode(bytes)) as { error?: unknown }
    return typeof j.error === 'string' ? j.error : undefined
  } catch {
    return undefined
  }
}
