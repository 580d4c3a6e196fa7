/**
 * One signed /peer/sync round trip: sign the request with the pair key, send it, check the
 * status, verify the response signature before reading anything, validate the page.
 */
import * as v from 'valibot'
import { PeerError } from '../lib/errors'
import { BodyTooLarge, readBodyText } from '../lib/read-body'
import { signRequest, verifyResponse, type PairKey, type PodId } from '../identity'
import { MAX_RESPONSE_BYTES, REQUEST_TIMEOUT_MS } from './constants'
import { SyncResponseSchema, type SyncResponse } from './protocol'

export const SYNC_ROUTE = '/peer/sync'

export interface PullRequest {
  baseUrl: string
  pairKey: PairKey
  selfId: PodId
  peerId: PodId
  since: string | null
  scope: string[]
  limit: number
  nowMs: number
  fetch?: typeof fetch
  timeoutMs?: number
  /** Aborts the request early (the pod is shutting down). */
  signal?: AbortSignal
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
  const body = JSON.stringify({ since: req.since, scope: req.scope, limit: req.limit })
  const { authorization, nonce } = await signRequest({
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

async function send(req: PullRequest, body: string, authorization: string, nonce: string): Promise<SyncResponse> {
  const url = syncUrl(req.baseUrl)
  let res: Response
  try {
    res = await (req.fetch ?? fetch)(url, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body,
      redirect: 'error', // a redirect could move the request to a host the operator did not name
      signal: anySignal(AbortSignal.timeout(req.timeoutMs ?? REQUEST_TIMEOUT_MS), req.signal),
    })
  } catch (cause) {
    const timedOut = cause instanceof Error && cause.name === 'TimeoutError'
    throw new PeerError(timedOut ? 'timeout' : 'request_failed', `POST ${url}: ${describe(cause)}`, { cause })
  }
  let text: string
  try {
    // Counted as it arrives and cancelled past the cap: a chunked answer can't make us buffer gigabytes.
    text = await readBodyText(res, MAX_RESPONSE_BYTES, { what: 'response' })
  } catch (cause) {
    if (cause instanceof BodyTooLarge) throw new PeerError('too_large', `POST ${url}: ${cause.message}; nothing stored`, { cause })
    const timedOut = cause instanceof Error && cause.name === 'TimeoutError'
    throw new PeerError(timedOut ? 'timeout' : 'request_failed', `POST ${url}: reading the response failed: ${describe(cause)}`, { cause })
  }
  if (res.status === 401) {
    const code = errorCode(text)
    throw new PeerError(code === 'clock_skew' || code === 'replay' ? code : 'unauthorized', `POST ${url} → 401 ${code ?? ''}`.trim())
  }
  if (res.status !== 200) throw new PeerError(`http_${res.status}`, `POST ${url} → ${res.status}`)

  const signature = res.headers.get('mzm-signature')
  if (!signature || !(await verifyResponse(req.pairKey, nonce, text, signature))) {
    throw new PeerError('bad_signature', `POST ${url}: response signature does not verify; nothing stored`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new PeerError('bad_response', `POST ${url}: response is not JSON`)
  }
  const parsed = v.safeParse(SyncResponseSchema, json)
  if (!parsed.success) throw new PeerError('bad_response', `POST ${url}: ${v.summarize(parsed.issues).split('\n')[0]}`)
  if (parsed.output.pod_id !== req.peerId) throw new PeerError('bad_response', `POST ${url}: answered as pod ${parsed.output.pod_id.slice(0, 8)}`)
  return parsed.output
}

function anySignal(timeout: AbortSignal, other: AbortSignal | undefined): AbortSignal {
  return other ? AbortSignal.any([timeout, other]) : timeout
}

function errorCode(text: string): string | undefined {
  try {
    const j = JSON.parse(text) as { error?: unknown }
    return typeof j.error === 'string' ? j.error : undefined
  } catch {
    return undefined
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return (err as Error & { code?: string }).code ?? err.message
  return String(err)
}
