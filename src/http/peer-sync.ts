/**
 * POST /peer/sync — the only peer-facing route besides /healthz. The caller proves it is a
 * current relationship with a pair-key MAC (src/identity/signing.ts); we answer one page of our
 * shareable change feed and sign the response with the same pair key. See src/sync/protocol.ts.
 */
import { Hono } from 'hono'
import * as v from 'valibot'
import { AuthError, TooLarge } from '../lib/errors'
import { parseAuthorization, signResponse, verifyRequest } from '../identity'
import type { AppDeps } from './deps'
import { parseWith } from './validate'

export const SYNC_ROUTE = '/peer/sync'
const MAX_SYNC_REQUEST_BYTES = 16 * 1024

const SyncRequestSchema = v.strictObject({
  since: v.nullable(v.pipe(v.string(), v.maxLength(64))),
  scope: v.optional(
    v.union([
      v.pipe(v.string(), v.minLength(1), v.maxLength(256)),
      v.pipe(v.array(v.pipe(v.string(), v.minLength(1), v.maxLength(256))), v.minLength(1), v.maxLength(32)),
    ]),
    ['public:*'],
  ),
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1000)), 500),
})

const UNAUTHORIZED = 'request is not from a current peer with a valid signature'

export function peerSyncRoutes(deps: AppDeps) {
  const { identity, peers, store, nonces, clock } = deps
  return new Hono().post(SYNC_ROUTE, async (c) => {
    const started = performance.now()
    const auth = parseAuthorization(c.req.header('authorization'))
    if (!auth) throw new AuthError('unauthorized', UNAUTHORIZED)
    const declared = Number(c.req.header('content-length') ?? 0)
    if (declared > MAX_SYNC_REQUEST_BYTES) throw new TooLarge(`sync request over ${MAX_SYNC_REQUEST_BYTES} bytes`)
    const body = new Uint8Array(await c.req.arrayBuffer())
    if (body.byteLength > MAX_SYNC_REQUEST_BYTES) throw new TooLarge(`sync request over ${MAX_SYNC_REQUEST_BYTES} bytes`)

    // Checked on every request, so deleting the key file or the table revokes at once.
    const trusted = peers.trusted(auth.callerId)
    if (!trusted) throw new AuthError('unauthorized', UNAUTHORIZED)
    const pairKey = await identity.pairKey(auth.callerId, trusted.key)
    await verifyRequest({
      pairKey,
      auth,
      method: 'POST',
      route: SYNC_ROUTE,
      calleeId: identity.podId,
      body,
      nowMs: clock.now(),
      nonces,
    })

    let json: unknown
    try {
      json = JSON.parse(new TextDecoder().decode(body))
    } catch {
      json = undefined
    }
    const req = parseWith(SyncRequestSchema, json, 'sync request')
    const scope = typeof req.scope === 'string' ? [req.scope] : req.scope
    const page = store.changesSince(req.since, scope, req.limit)
    const text = JSON.stringify({ pod_id: identity.podId, cursor: page.cursor, more: page.more, memories: page.memories })
    const signature = await signResponse(pairKey, auth.nonce, text)
    deps.onServed?.(auth.callerId, page.memories.length, performance.now() - started)
    return c.body(text, 200, { 'content-type': 'application/json', 'mzm-signature': signature })
  })
}
