/** What the rendezvous accepts, as valibot schemas; messages name the field and what to send. */
import * as v from 'valibot'
import { keyTextProblem } from '../identity'
import { HttpUrlSchema } from '../lib/http-url'

const PEER_ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const PUBLIC_KEY_RE = /^[A-Za-z0-9_-]{43}$/
const PROOF_RE = /^[A-Za-z0-9_-]{43}$/
/** Far beyond any real clock, small enough that String(ts) stays plain decimal. */
const MAX_TS_S = 1e12

export const PeerIdSchema = v.pipe(v.string('must be a string'), v.regex(PEER_ID_RE, 'must be a lowercase UUID'))

/** A pod's X25519 public key as it appears in handshake URLs: 43 base64url characters. */
export const PublicKeySchema = v.pipe(v.string('must be a string'), v.regex(PUBLIC_KEY_RE, 'must be a 43-character base64url public key'))

/** The key a pod registers: canonical, as its handshake URL spells it (its hash is what lookups match). */
export const CanonicalPublicKeySchema = v.pipe(
  v.string('must be a string'),
  v.rawCheck<string>(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    const problem = keyTextProblem(dataset.value, { canonical: true })
    if (problem) addIssue({ message: `${problem}: send the pod's 43-character X25519 public key` })
  }),
)

/** Register body (contract Part 1b): the proof shows the caller holds the private half of `key`. */
export const RegisterSchema = v.strictObject({
  peer_id: PeerIdSchema,
  // The pod applies the same rule to what a lookup returns before it pulls from it.
  url: HttpUrlSchema,
  key: CanonicalPublicKeySchema,
  ts: v.pipe(v.number('must be unix seconds (a number)'), v.integer('must be whole unix seconds'), v.minValue(0, 'must be unix seconds'), v.maxValue(MAX_TS_S, 'must be unix seconds')),
  proof: v.pipe(v.string('must be a string'), v.regex(PROOF_RE, 'must be 43 base64url characters: base64url(HMAC-SHA256(K, …)) per the contract')),
})

export type RegisterBody = v.InferOutput<typeof RegisterSchema>
