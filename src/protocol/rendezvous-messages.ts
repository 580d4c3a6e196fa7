/**
 * The rendezvous's messages (docs/PROTOCOL.md §8), one schema each: the rendezvous validates a
 * registration and a lookup's id and key with them; a pod validates the rendezvous's answers.
 * The proof's math (X25519 + HKDF + HMAC) is in src/identity/rendezvous-proof.ts.
 */
import * as v from 'valibot'
import { HttpUrlSchema } from '../lib/http-url'
import { KeyTextSchema, PublicKeySchema, UuidSchema } from './ids'

/** Far beyond any real clock, small enough that String(ts) stays plain decimal. */
const MAX_TS_S = 1e12
const PROOF_RE = /^[A-Za-z0-9_-]{43}$/

/** A peer id in a lookup path or a register body. */
export const PeerIdSchema = UuidSchema

/** The key a lookup presents: 43 base64url characters (a non-canonical spelling just finds nothing). */
export const LookupKeySchema = KeyTextSchema

/** POST /api/peers/register body: the proof shows the caller holds the private half of `key`. */
export const RegisterSchema = v.strictObject({
  peer_id: PeerIdSchema,
  // The pod applies the same rule to what a lookup returns before it pulls from it.
  url: HttpUrlSchema,
  key: PublicKeySchema,
  ts: v.pipe(
    v.number('must be unix seconds (a number)'),
    v.integer('must be whole unix seconds'),
    v.minValue(0, 'must be unix seconds'),
    v.maxValue(MAX_TS_S, 'must be unix seconds'),
  ),
  proof: v.pipe(v.string('must be a string'), v.regex(PROOF_RE, 'must be 43 base64url characters: base64url(HMAC-SHA256(K, …)) per the contract')),
})

/** A register body as a pod writes it. */
export type RegisterBody = v.InferInput<typeof RegisterSchema>

/** In a release's proof, this stands where a registration has its URL. */
export const RELEASE_PROOF_SUBJECT = 'release'

/**
 * DELETE /api/peers/register/<id> body: ends the id's binding. The proof is a registration's with
 * RELEASE_PROOF_SUBJECT in place of the URL; `ts` must be newer than the last one accepted.
 */
export const ReleaseSchema = v.strictObject({
  key: PublicKeySchema,
  ts: RegisterSchema.entries.ts,
  proof: RegisterSchema.entries.proof,
})

export type ReleaseBody = v.InferInput<typeof ReleaseSchema>

/** GET /api/rendezvous answer: the rendezvous's X25519 public key. */
export const RendezvousKeyAnswerSchema = v.object({
  key: PublicKeySchema,
  version: v.optional(v.string()),
})

/** GET /api/peers/lookup/<id> answer (also the register answer). */
export const LookupAnswerSchema = v.object({
  peer_id: PeerIdSchema,
  // The rendezvous is not trusted: a URL with a query or fragment would turn the route we append
  // into a query and aim our POST at another path of that host (blind SSRF).
  url: HttpUrlSchema,
  expires_at: v.string(),
})

export type LookupAnswer = v.InferOutput<typeof LookupAnswerSchema>
