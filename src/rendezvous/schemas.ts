/** What the rendezvous accepts, as valibot schemas; messages name the field and what to send. */
import * as v from 'valibot'
import { HttpUrlSchema } from '../lib/http-url'

const PEER_ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const PUBLIC_KEY_RE = /^[A-Za-z0-9_-]{43}$/
const KEY_HASH_RE = /^[0-9a-f]{64}$/

export const PeerIdSchema = v.pipe(v.string('must be a string'), v.regex(PEER_ID_RE, 'must be a lowercase UUID'))

/** A pod's X25519 public key as it appears in handshake URLs: 43 base64url characters. */
export const PublicKeySchema = v.pipe(v.string('must be a string'), v.regex(PUBLIC_KEY_RE, 'must be a 43-character base64url public key'))

export const RegisterSchema = v.strictObject({
  peer_id: PeerIdSchema,
  // The pod applies the same rule to what a lookup returns before it pulls from it.
  url: HttpUrlSchema,
  key_hash: v.pipe(v.string('must be a string'), v.regex(KEY_HASH_RE, 'must be 64 lowercase hex digits: hex(SHA-256(public key))')),
})

export type RegisterBody = v.InferOutput<typeof RegisterSchema>
