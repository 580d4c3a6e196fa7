/**
 * POST /peer/sync — the only peer-facing route besides /healthz. The caller proves it is a
 * current relationship with a pair-key MAC (src/identity/signing.ts); we answer one page of our
 * shareable change feed and sign the response with the same pair key. See src/sync/protocol.ts.
 */
import { Hono } from 'hono'
import * as v from 'valibot'
import { AuthError, TooLarge } from '../lib/errors'
import { scopeLimitProblem } from '../lib/glob'
import { cancelQuietly, declaresOver, readBody } from '../lib/read-body'
import { parseAuthorization, signResponse, verifyRequest } from '../identity'
import type { AppDeps } from './deps'
import { parseWith } from './validate'

export const SYNC_ROUTE = '/peer/sync'
/** Contract Part 1b: a sync request is since, scope and limit; anything bigger is refused unread. */
export const MAX_SYNC_REQUEST_BYTES = 16 * 1024

/** A peer's scope: one glob or a list, within the contract limits (16 globs of 1..128 characters). */
const WireScopeSchema = v.pipe(
  v.union([v.string(), v.array(v.string())], 'must be a glob string or an array of glob strings'),
  v.transform((s): string[] => (typeof s === 'string' ? [s] : s)),
  v.rawCheck<string[]>(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    const problem = scopeLimitProblem(dataset.value)
    if (problem) addIssue({ message: problem })
  }),
)

const SyncRequestSchema = v.strictObject({
  since: v.nullable(v.pipe(v.string(), v.maxLength(64))),
  scope: v.optional(WireScopeSchema, () => ['public:*']),
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1000)), 500),
})

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
    if (declaresOver(c.req.raw.headers, MAX_SYNC_REQUEST_BYTES)) throw refuse(body, tooLarge())
    // Then at most 16 KiB, counted as it streams, and the MAC over exactly those bytes.
    const bytes = await readBody(c.req.raw, MAX_SYNC_REQUEST_BYTES, { what: 'sync request' })
    const pairKey = await identity.pairKey(auth.callerId, trusted.key)
    await verifyRequest({
      pairKey,
      auth,
      method: 'POST',
      route: SYNC_ROUTE,
      calleeId: identity.podId,
      body: bytes,
      nowMs,
      nonces,
    })

    let json: unknown
    try {
      json = JSON.parse(new TextDecoder().decode(bytes))
    } catch {
      json = undefined
    }
    const req = parseWith(SyncRequestSchema, json, 'sync request')
    const page = store.changesSince(req.since, req.scope, req.limit)
    const text = JSON.stringify({ pod_id: identity.podId, cursor: page.cursor, more: page.more, memories: page.memories })
    const signature = await signResponse(pairKey, auth.nonce, text)
    deps.onServed?.(auth.callerId, page.memories.length, performance.now() - started)
    return c.body(text, 200, { 'content-type': 'application/json', 'mzm-signature': signature })
  })
}

function tooLarge(): TooLarge {
  return new TooLarge(`sync request is over ${MAX_SYNC_REQUEST_BYTES} bytes; send since, scope and limit only`)
}

/** The error to throw for a request refused before its body was read; the body is released unread. */
function refuse(body: ReadableStream<Uint8Array> | null, err: unknown): unknown {
  cancelQuietly(body)
  return err
}
