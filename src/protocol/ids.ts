/**
 * Identifiers on the wire: pod ids and memory ids are lowercase UUIDs; public keys are 32 bytes
 * as 43 base64url characters. The pattern of each lives here once; identity, store, http and the
 * rendezvous check ids with these.
 */
import * as v from 'valibot'

/** Branded: a string checked to be a lowercase UUID (see isUuid / identity's parsePodId). */
export type PodId = string & { readonly __brand: 'PodId' }
/** X25519 public key, 43-char canonical base64url (no padding). */
export type PublicKey = string & { readonly __brand: 'PublicKey' }

/** A lowercase UUID (8-4-4-4-12 hex), as a pattern to embed in a larger regex. */
export const UUID_PATTERN = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
/** A lowercase UUID and nothing else. Pod ids we create are v4; any lowercase UUID is accepted. */
export const UUID_RE = new RegExp(`^${UUID_PATTERN}$`)

/** Characters of a pod id in its short form. */
export const SHORT_ID_CHARS = 8

/** The first 8 hex digits: a pod id's short form in logs and UI (contract: DESIGN Part 1). */
export function shortId(id: string): string {
  return id.slice(0, SHORT_ID_CHARS)
}

export function isUuid(text: unknown): boolean {
  return typeof text === 'string' && UUID_RE.test(text)
}

/** A pod or memory id. */
export const UuidSchema = v.pipe(v.string('must be a string'), v.regex(UUID_RE, 'must be a lowercase UUID'))

export const KEY_BYTES = 32
export const KEY_CHARS = 43

const BASE64URL_RE = /^[A-Za-z0-9_-]*$/
// 43 chars carry 258 bits; the last character's two low bits must be zero, so that every key
// has exactly one spelling (a key file and a handshake URL compare as strings).
const CANONICAL_LAST_RE = /[AEIMQUYcgkosw048]$/

/**
 * What is wrong with a 43-char base64url key text, or null. `canonical` also rejects a last
 * character with stray bits (used for public keys, which are compared as strings).
 */
export function keyTextProblem(text: string, opts: { canonical?: boolean } = {}): string | null {
  if (!BASE64URL_RE.test(text)) return 'is not base64url (only A-Z a-z 0-9 - _, no padding)'
  if (text.length < KEY_CHARS) return `is too short (${text.length} characters, expected ${KEY_CHARS})`
  if (text.length > KEY_CHARS) return `is too long (${text.length} characters, expected ${KEY_CHARS})`
  if (opts.canonical && !CANONICAL_LAST_RE.test(text)) return 'is not canonical base64url (its last character has stray bits)'
  return null
}

export function isPublicKey(text: unknown): text is PublicKey {
  return typeof text === 'string' && keyTextProblem(text, { canonical: true }) === null
}

/** 43 base64url characters (a lookup's key; its canonical form is not required to miss). */
export const KeyTextSchema = v.pipe(
  v.string('must be a string'),
  v.check((s) => keyTextProblem(s) === null, `must be a ${KEY_CHARS}-character base64url public key`),
)

/** A key as a handshake URL spells it: canonical, since keys are compared (and hashed) as text. */
export const PublicKeySchema = v.pipe(
  v.string('must be a string'),
  v.rawCheck<string>(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    const problem = keyTextProblem(dataset.value, { canonical: true })
    if (problem) addIssue({ message: `${problem}: send the pod's ${KEY_CHARS}-character X25519 public key` })
  }),
  v.transform((s) => s as PublicKey),
)
