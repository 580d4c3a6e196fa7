/** Every timing and limit of the rendezvous service, in one place, with its unit in the name. */
import { MINUTE_MS, SECOND_MS } from '../lib/clock'

/** `mazemaker rendezvous` listens here unless told otherwise. */
export const DEFAULT_RENDEZVOUS_PORT = 8780
/** A registration answers lookups for this long after its last heartbeat (pods beat every 60 s). */
export const RECORD_TTL_MS = 300 * SECOND_MS
/**
 * An expired row keeps binding its peer id to its key hash this much longer (its URL is wiped at
 * expiry), so a pod that is offline for weeks cannot have its id squatted by another token
 * holder; its key's holder can release it sooner (DELETE with a proof over "release").
 */
export const BINDING_RETENTION_MS = 30 * 24 * 60 * MINUTE_MS
/** Expired rows are purged on a write at most this often (a purge scans the expires_at index). */
export const PURGE_INTERVAL_MS = MINUTE_MS
/** Rows (live or retained) the table holds before refusing new peer ids with 503 `full`. */
export const MAX_REGISTRATIONS = 100_000
/** Peer ids (live or retained for their binding) one registration token may hold. */
export const MAX_IDS_PER_TOKEN = 1000
/**
 * Registrations (a new id, or an id moving to another URL) one token may send per second; a burst
 * of as many is allowed. Heartbeats that only refresh an unchanged binding are not charged to the
 * token (its 1,000 ids beating once a minute send 16.7/s, which 10/s would refuse); they are
 * written at most once per HEARTBEAT_MIN_INTERVAL_MS per id.
 */
export const REGISTRATIONS_PER_SECOND_PER_TOKEN = 10
/** An unchanged binding is written at most once per this interval; a heartbeat sooner is answered as is. */
export const HEARTBEAT_MIN_INTERVAL_MS = 10 * SECOND_MS
/** Proof keys (K) kept in memory, one per (peer id, key) that registered lately (~200 bytes each). */
export const PROOF_KEY_CACHE_MAX = 20_000
/** The rendezvous's X25519 private key in its home (43 base64url chars + newline, 0600). */
export const RENDEZVOUS_KEY_FILE = 'rendezvous.key'
/** Largest register body; a valid one is well under 2.4 KiB. */
export const MAX_BODY_BYTES = 4 * 1024
/** Longest token label. */
export const MAX_LABEL_CHARS = 200
/** Failed lookups, and failed registrations, each allowed per source per minute (token bucket). */
export const FAILURES_PER_MINUTE = 30
/** Sources the rate limiter remembers; past this the least recently failing one is forgotten. */
export const MAX_LIMITER_SOURCES = 10_000
