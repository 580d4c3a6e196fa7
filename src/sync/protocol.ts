/**
 * The federation protocol, in one place.
 *
 * Pull model. Every paired pod pulls from every peer it has `sync = true` for, every
 * `sync_interval` seconds (default 300) with jitter, at most 8 peers at once. A pull is a series of
 * `POST <peer url>/peer/sync` pages:
 *
 *   request  {"since": null | cursor, "scope": ["public:*"], "limit": 500}
 *   response {"pod_id", "cursor", "more", "memories": [{id,label,content,created_at,updated_at} | {id, deleted:true}]}
 *
 * Authentication. The request carries `Authorization: Bearer mzm1.<caller>.<ts>.<nonce>.<mac>`, an
 * HMAC-SHA256 under the pair key (X25519 + HKDF, only the two pods can compute it) over method,
 * logical route, callee id, ts, nonce and the body hash. The callee answers 401 `unauthorized`
 * (unknown, revoked or bad MAC — indistinguishable), `clock_skew` (|now-ts| > 300 s, after a valid
 * MAC) or `replay` (nonce seen in the last 600 s). The response carries `Mzm-Signature`, an HMAC
 * under the same key over the request nonce and the response body hash: a puller stores nothing
 * from a response whose signature fails (`bad_signature`), so neither a proxy nor a lying
 * rendezvous can inject or redirect memories. A peer that sends more requests than its share of
 * the nonce cache holds (20,000 per 600 s) gets 429 `rate_limited` until its old nonces expire.
 *
 * Gate. The server sends only memories whose label has a public prefix, whose content is not
 * `AES:`, whose label is not `peer:` (no transitive sharing), matching the requested scope. A
 * served memory later deleted or moved out of the gate comes as a tombstone.
 *
 * Storing. Each page is applied in one transaction together with its cursor: a crash at any point
 * loses nothing and duplicates nothing; the next pull resumes from the stored cursor.
 *
 * Failures. Codes: request_failed (network), unauthorized, clock_skew, bad_signature, bad_response,
 * http_<status>, timeout. A failing peer is retried with exponential backoff (5 s doubling, capped
 * at the interval) and recovers by itself.
 */
import * as v from 'valibot'
import { MAX_RESPONSE_BYTES } from './constants'

const Iso = v.pipe(v.string(), v.maxLength(40))
const Uuid = v.pipe(v.string(), v.regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/))

export const WireEntrySchema = v.union([
  v.object({ id: Uuid, deleted: v.literal(true) }),
  v.object({
    id: Uuid,
    // Longer than our 256-char labels on purpose: such a copy is dropped and counted by the
    // store (remote-copies.ts) instead of failing the page, so one bad memory blocks no other.
    label: v.pipe(v.string(), v.minLength(1), v.maxLength(4096)),
    // Likewise content over max_content_bytes is the store's to drop; only the response cap bounds it here.
    content: v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_RESPONSE_BYTES)),
    created_at: Iso,
    updated_at: Iso,
  }),
])

export const SyncResponseSchema = v.object({
  pod_id: Uuid,
  cursor: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  more: v.boolean(),
  memories: v.pipe(v.array(WireEntrySchema), v.maxLength(1000)),
})

export type SyncResponse = v.InferOutput<typeof SyncResponseSchema>
