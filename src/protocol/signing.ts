/**
 * Request and response authentication between peers (docs/PROTOCOL.md §4):
 *
 *   Authorization: Bearer mzm1.<caller-id>.<ts>.<nonce>.<mac>
 *   mac = base64url(HMAC-SHA256(pair_key, "mzm1\n" + METHOD + "\n" + ROUTE + "\n" + callee-id
 *                               + "\n" + ts + "\n" + nonce + "\n" + hex(SHA-256(body))))
 *   Mzm-Signature = base64url(HMAC-SHA256(pair_key, "mzm1-resp\n" + nonce + "\n" + hex(SHA-256(body))))
 *
 * The body is the bytes as sent (sealed, for /peer/sync). ROUTE is the logical route, so a proxy
 * may mount the pod under any prefix. The callee id is in the MAC so a request to one of our
 * peers cannot be replayed at another. The pair key itself is derived in src/identity.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { AuthError, PodError } from '../lib/errors'
import { fromBase64url, toBase64url } from '../lib/base64url'
import { hmacSha256, sha256Hex } from '../runtime'
import { UUID_PATTERN, type PodId } from './ids'
import type { PairKey } from './pair-key'
import { BEARER_SCHEME, MAX_CLOCK_SKEW_S, NONCE_BYTES, NONCE_WINDOW_MS, RESPONSE_DOMAIN } from './wire'

const MAC_BYTES = 32
const MAC_CHARS = 43
const NONCE_CHARS = 22
const AUTH_RE = new RegExp(
  `^Bearer ${BEARER_SCHEME}\\.(${UUID_PATTERN})\\.(0|[1-9][0-9]{0,11})\\.([A-Za-z0-9_-]{${NONCE_CHARS}})\\.([A-Za-z0-9_-]{${MAC_CHARS}})$`,
)
const SIGNATURE_RE = new RegExp(`^[A-Za-z0-9_-]{${MAC_CHARS}}$`)

export type Body = string | Uint8Array

export interface ParsedAuthorization {
  callerId: PodId
  ts: number
  nonce: string
  mac: string
}

/** The nonce store verifyRequest needs (identity's NonceCache implements it). */
export interface NonceStore {
  checkAndRecord(peer: string, nonce: string, nowMs: number): 'fresh' | 'replay' | 'full'
}

/** hex(SHA-256(body)); a string body is hashed as UTF-8. */
export function hashBody(body: Body): string {
  return sha256Hex ? sha256Hex(body) : createHash('sha256').update(body).digest('hex')
}

/** A fresh request nonce: 16 random bytes, base64url. The seal's AAD uses it too, so it is chosen first. */
export function newNonce(): string {
  return toBase64url(randomBytes(NONCE_BYTES))
}

function requestMessage(method: string, route: string, calleeId: string, ts: number, nonce: string, body: Body): string {
  return `${BEARER_SCHEME}\n${method.toUpperCase()}\n${route}\n${calleeId}\n${ts}\n${nonce}\n${hashBody(body)}`
}

function responseMessage(nonce: string, body: Body): string {
  return `${RESPONSE_DOMAIN}\n${nonce}\n${hashBody(body)}`
}

function mac(pairKey: PairKey, message: string): Uint8Array {
  if (!hmacSha256) return new Uint8Array(createHmac('sha256', pairKey.secret).update(message).digest())
  return hmacSha256(pairKey.bytes(), message)
}

/** Constant-time comparison of a presented base64url MAC with the expected bytes. */
function macMatches(presented: string, expected: Uint8Array): boolean {
  const bytes = fromBase64url(presented)
  if (!bytes || bytes.length !== MAC_BYTES || expected.length !== MAC_BYTES) return false
  return timingSafeEqual(bytes, expected)
}

/** The Authorization header for one request; `nonce` defaults to a fresh one. */
export function signRequest(req: {
  pairKey: PairKey
  method: string
  route: string
  callerId: string
  calleeId: string
  body: Body
  nowMs: number
  nonce?: string
}): { authorization: string; nonce: string } {
  const nonce = req.nonce ?? newNonce()
  const ts = Math.floor(req.nowMs / 1000)
  const tag = mac(req.pairKey, requestMessage(req.method, req.route, req.calleeId, ts, nonce, req.body))
  return { authorization: `Bearer ${BEARER_SCHEME}.${req.callerId}.${ts}.${nonce}.${toBase64url(tag)}`, nonce }
}

/** Strict parse of an `Authorization` header; null for anything that is not exactly our format. */
export function parseAuthorization(header: string | undefined | null): ParsedAuthorization | null {
  if (!header) return null
  const m = AUTH_RE.exec(header)
  if (!m) return null
  return { callerId: m[1] as PodId, ts: Number(m[2]), nonce: m[3]!, mac: m[4]! }
}

/**
 * Throws AuthError unless the MAC verifies (`unauthorized`), ts is within ±300 s of now
 * (`clock_skew`) and the nonce is fresh (`replay`), in that order: skew and replay are only
 * reported to a caller that proved it holds the pair key. The nonce is recorded only then.
 */
export function verifyRequest(req: {
  pairKey: PairKey
  auth: ParsedAuthorization
  method: string
  route: string
  calleeId: string
  body: Body
  nowMs: number
  nonces: NonceStore
}): void {
  const { auth } = req
  const expected = mac(req.pairKey, requestMessage(req.method, req.route, req.calleeId, auth.ts, auth.nonce, req.body))
  if (!macMatches(auth.mac, expected)) {
    throw new AuthError('unauthorized', 'request is not from a current peer with a valid signature')
  }
  const nowS = Math.floor(req.nowMs / 1000)
  if (Math.abs(nowS - auth.ts) > MAX_CLOCK_SKEW_S) {
    throw new AuthError('clock_skew', `request time is ${nowS - auth.ts} s off our clock (at most ${MAX_CLOCK_SKEW_S} s allowed); check both clocks (NTP)`)
  }
  const verdict = req.nonces.checkAndRecord(auth.callerId, auth.nonce, req.nowMs)
  if (verdict === 'replay') throw new AuthError('replay', 'request nonce was already used')
  if (verdict === 'full') {
    throw new PodError('rate_limited', `too many requests from this peer within ${NONCE_WINDOW_MS / 1000} s; slow down and retry later`)
  }
}

/** Mzm-Signature of a 200 answer to the request that carried `nonce`. */
export function signResponse(pairKey: PairKey, nonce: string, body: Body): string {
  return toBase64url(mac(pairKey, responseMessage(nonce, body)))
}

/** True only when `signature` is exactly the response MAC for this nonce and body. */
export function verifyResponse(pairKey: PairKey, nonce: string, body: Body, signature: string | null | undefined): boolean {
  if (!signature || !SIGNATURE_RE.test(signature)) return false
  return macMatches(signature, mac(pairKey, responseMessage(nonce, body)))
}
