/**
 * One /peer/sync exchange end to end, for both sides: the puller seals and signs a request and
 * checks, opens and decodes the answer; the callee (after verifying the Bearer, which needs its
 * peer registry and nonce cache) opens and decodes the request and seals and signs the answer.
 * Each step is the contract's, in the contract's order: a signature is checked before anything
 * is opened, and the nonce that the Bearer carries is the one in the seal's AAD.
 */
import { PodError } from '../lib/errors'
import { sealKeys, openRequest, openResponse, openResponseAsync, SealError, sealRequest, sealResponse, sealResponseFast, type SealKeys } from './seal'
import type { PairKey } from './pair-key'
import { newNonce, signRequest, signResponse, verifyResponse } from './signing'
import {
  decodeSyncRequest,
  decodeSyncResponse,
  decodeSyncResponseText,
  encodeSyncRequest,
  encodeSyncResponse,
  type SyncRequest,
  type SyncRequestInput,
  type SyncResponse,
  utf8OrNull,
} from './sync-messages'
import { SEALED_CONTENT_TYPE, SYNC_ROUTE } from './wire'

/** A request ready to send as is: the sealed body and the two headers the contract requires. */
export interface OutgoingSyncRequest {
  body: Uint8Array
  headers: { authorization: string; 'content-type': string }
  nonce: string
  keys: SealKeys
}

/** A 200 answer whose Mzm-Signature does not verify: nothing of it may be used. */
export class BadSignature extends PodError {
  constructor() {
    super('bad_signature', 'response signature does not verify')
  }
}

/** The puller's side: seal `request` for `calleeId` and sign the sealed bytes (the Bearer). */
export function sealSyncRequest(o: { pairKey: PairKey; callerId: string; calleeId: string; request: SyncRequestInput; nowMs: number }): OutgoingSyncRequest {
  const keys = sealKeys(o.pairKey, o.callerId, o.calleeId)
  // The nonce is in the seal's AAD and in the Bearer: chosen first, used by both.
  const nonce = newNonce()
  const body = sealRequest(keys, nonce, encodeSyncRequest(o.request))
  const { authorization } = signRequest({
    pairKey: o.pairKey,
    method: 'POST',
    route: SYNC_ROUTE,
    callerId: o.callerId,
    calleeId: o.calleeId,
    body,
    nowMs: o.nowMs,
    nonce,
  })
  return { body, headers: { authorization, 'content-type': SEALED_CONTENT_TYPE }, nonce, keys }
}

/**
 * The puller's side of a 200: the signature over the bytes as received, then the seal, then the
 * schema. Throws BadSignature, SealError or BadInput, in that order of checks.
 */
export function openSyncResponse(o: {
  pairKey: PairKey
  sent: Pick<OutgoingSyncRequest, 'nonce' | 'keys'>
  body: Uint8Array
  signature: string | null | undefined
}): SyncResponse {
  if (!verifyResponse(o.pairKey, o.sent.nonce, o.body, o.signature)) throw new BadSignature()
  return decodeSyncResponse(openResponse(o.sent.keys, o.sent.nonce, o.body))
}

/** openSyncResponse with the seal opened off the main thread where the runtime can (seal.ts: openResponseAsync). */
export async function openSyncResponseAsync(o: Parameters<typeof openSyncResponse>[0]): Promise<SyncResponse> {
  return decodeOpenedAnswer(await openSyncAnswer(o))
}

/**
 * A 200's bytes after the signature, then the seal, were checked: the page's JSON bytes (or their
 * text, asText()), or the check that failed.
 */
export type OpenedAnswer = { plain: Uint8Array } | { text: string } | { failure: 'signature' | 'seal' }

/**
 * The first two of openSyncResponse's checks, which need the keys but not the schema: a thread
 * that fetches pages can do them (sync/fetch-worker.ts) and hand over only what opened.
 */
export async function openSyncAnswer(o: Parameters<typeof openSyncResponse>[0]): Promise<OpenedAnswer> {
  if (!verifyResponse(o.pairKey, o.sent.nonce, o.body, o.signature)) return { failure: 'signature' }
  try {
    return { plain: await openResponseAsync(o.sent.keys, o.sent.nonce, o.body) }
  } catch (err) {
    if (err instanceof SealError) return { failure: 'seal' }
    throw err
  }
}

/** The page of an opened answer: throws BadSignature, SealError or BadInput, as openSyncResponse does. */
export function decodeOpenedAnswer(answer: OpenedAnswer): SyncResponse {
  if ('failure' in answer) throw answer.failure === 'signature' ? new BadSignature() : new SealError('sealed response')
  return 'text' in answer ? decodeSyncResponseText(answer.text) : decodeSyncResponse(answer.plain)
}

/**
 * The opened page's bytes as text, for a thread that hands it to another: decoding 300 KB costs
 * Deno 0.25 ms, copying the text across 0.03 ms. Bytes that are not UTF-8 stay bytes (their
 * decode refuses them where it always did).
 */
export function asText(answer: OpenedAnswer): OpenedAnswer {
  if (!('plain' in answer)) return answer
  const text = utf8OrNull(answer.plain)
  return text === null ? answer : { text }
}

/**
 * The callee's side, after verifyRequest passed: open and decode (with `decode`, e.g. a route's
 * memoizedRequestDecoder; decodeSyncRequest by default). Throws SealError or BadInput.
 */
export function openSyncRequest(o: {
  pairKey: PairKey
  callerId: string
  calleeId: string
  nonce: string
  body: Uint8Array
  decode?: (bytes: Uint8Array) => SyncRequest
}): {
  request: SyncRequest
  keys: SealKeys
} {
  const keys = sealKeys(o.pairKey, o.callerId, o.calleeId)
  return { request: (o.decode ?? decodeSyncRequest)(openRequest(keys, o.nonce, o.body)), keys }
}

type ResponseToSeal = { pairKey: PairKey; keys: SealKeys; nonce: string } & ({ page: SyncResponse } | { plain: Uint8Array })
type SealedResponse = { body: Uint8Array; signature: string }

/** The callee's answer: the page (or its bytes from encodeSyncResponse) sealed, and its Mzm-Signature. */
export function sealSyncResponse(o: ResponseToSeal): SealedResponse {
  return signed(o, sealResponse(o.keys, o.nonce, 'plain' in o ? o.plain : encodeSyncResponse(o.page)))
}

/** sealSyncResponse, a big page sealed off the main thread where the runtime is faster that way (seal.ts: sealResponseFast). */
export function sealSyncResponseFast(o: ResponseToSeal): SealedResponse | Promise<SealedResponse> {
  const body = sealResponseFast(o.keys, o.nonce, 'plain' in o ? o.plain : encodeSyncResponse(o.page))
  return body instanceof Promise ? body.then((b) => signed(o, b)) : signed(o, body)
}

/** The sealed answer with its Mzm-Signature over exactly those bytes. */
function signed(o: ResponseToSeal, body: Uint8Array): SealedResponse {
  return { body, signature: signResponse(o.pairKey, o.nonce, body) }
}
