/**
 * POST /peer/sync — the only peer-facing route besides /healthz. The caller proves it is a
 * current relationship with a pair-key MAC; we answer one page of our shareable change feed and
 * sign the response with the same pair key. The wire itself (schemas, limits, signatures) is
 * src/protocol; this file is the order of the checks and the store call.
 */
import { Hono } from 'hono'
import { AuthError, TooLarge } from '../lib/errors'
import { cancelQuietly, declaresOver, readBody } from '../lib/read-body'
import {
  decodeSyncRequest,
  encodeSyncResponse,
  JSON_CONTENT_TYPE,
  parseAuthorization,
  signResponse,
  SIGNATURE_HEADER,
  SYNC_REQUEST_MAX_BYTES,
  SYNC_RESPONSE_MAX_BYTES,
  SYNC_ROUTE,
  verifyRequest,
} from '../protocol'
import type { ChangePage, Store } from '../store'
import type { AppDeps } from './deps'

const UNAUTHORIZED = 'request is not from a current peer with a valid signature'

export function peerSyncRoutes(deps: AppDeps) {
  const { identity, peers, store, nonces, clock } = deps
  return new Hono().post(SYNC_ROUTE, async (c) => {
    const started = performance.now()
    // Everything that needs no body comes first, so an unauthenticated caller costs us no body
    // (contract Part 1b): the Bearer's shape and a current relationship. The timestamp window is
    // checked with the MAC (verifyRequest), since `clock_skew` goes only to a caller holding the
    // pair key (Part 1); such a body is bounded at 16 KiB like any other.
    const body = c.req.raw.body
    const auth = parseAuthorization(c.req.header('authorization'))
    if (!auth) throw refuse(body, new AuthError('unauthorized', UNAUTHORIZED))
    const nowMs = clock.now()
    // Checked on every request, so deleting the key file or the table revokes at once.
    const trusted = peers.trusted(auth.callerId)
    if (!trusted) throw refuse(body, new AuthError('unauthorized', UNAUTHORIZED))
    if (declaresOver(c.req.raw.headers, SYNC_REQUEST_MAX_BYTES)) throw refuse(body, tooLarge())
    // Then at most 16 KiB, counted as it streams, and the MAC over exactly those bytes.
    const bytes = await readBody(c.req.raw, SYNC_REQUEST_MAX_BYTES, { what: 'sync request' })
    const pairKey = await identity.pairKey(auth.callerId, trusted.key)
    verifyRequest({ pairKey, auth, method: 'POST', route: SYNC_ROUTE, calleeId: identity.podId, body: bytes, nowMs, nonces })

    const req = decodeSyncRequest(bytes)
    const { answer, memories } = encodePage(store, identity.podId, req)
    const signature = signResponse(pairKey, auth.nonce, answer)
    deps.onServed?.(auth.callerId, memories.length, performance.now() - started, memories, req.scope)
    return c.body(answer as Uint8Array<ArrayBuffer>, 200, { 'content-type': JSON_CONTENT_TYPE, [SIGNATURE_HEADER]: signature })
  })
}

/**
 * Largest page we send. A puller reads at most 64 MiB per answer (contract Part 1b) and would
 * fail on a bigger page forever, since the next try asks for the same one: so a page over this
 * many bytes (big memories, or escaping-heavy content) is asked of the feed again with half the
 * limit, down to one entry. Half the puller's cap leaves room for any implementation's slack.
 */
export const MAX_PAGE_BYTES = SYNC_RESPONSE_MAX_BYTES / 2

/** The page's bytes as signed and sent: at most `maxBytes` unless a single entry is bigger. */
export function encodePage(
  store: Pick<Store, 'changesSince'>,
  podId: string,
  req: { since: string | null; scope: string[]; limit: number },
  maxBytes = MAX_PAGE_BYTES,
): { answer: Uint8Array; memories: ChangePage['memories'] } {
  for (let limit = req.limit; ; limit = Math.max(1, Math.floor(limit / 2))) {
    const page = store.changesSince(req.since, req.scope, limit)
    const answer = encodeSyncResponse({ pod_id: podId, cursor: page.cursor, more: page.more, memories: page.memories })
    if (limit === 1 || answer.byteLength <= maxBytes) return { answer, memories: page.memories }
  }
}

function tooLarge(): TooLarge {
  return new TooLarge(`sync request is over ${SYNC_REQUEST_MAX_BYTES} bytes; send since, scope, limit and wait only`)
}

/** The error to throw for a request refused before its body was read; the body is released unread. */
function refuse(body: ReadableStream<Uint8Array> | null, err: unknown): unknown {
  cancelQuietly(body)
  return err
}
