/**
 * The pod's vocabulary, typed once: every error code (`{"error": code}` answers, `PodError.code`,
 * `err=` in sync lines, `last_error`), every reason a peer was not pulled, and every relationship
 * status. Each list is a `const` array with its union type derived from it, so a code that is
 * not listed here does not compile, and server, sync, CLI and panel read the same words.
 *
 * A leaf: it imports nothing, so every layer (lib's own errors.ts included) may import it.
 */

/**
 * Relationship statuses as `GET /peer/peers` reports them, in the order operators see them
 * (`peer list`, the panel): problems first, then what waits on someone, then the quiet ones.
 * `disk-full`: this pod's disk refused the last pull's copies (nothing is lost; pulls resume).
 */
export const PEER_STATUSES = ['disk-full', 'error', 'held', 'revoked', 'awaiting-peer', 'handshake-pending', 'ready', 'paused'] as const
export type PeerStatus = (typeof PEER_STATUSES)[number]

/**
 * What changed under a pull in flight (its key, scope, URLs or `live`): the pull stops and the
 * peer is pulled again at once, under the new settings.
 */
export const CHANGE_REASONS = ['key_changed', 'scope_changed', 'url_changed', 'live_changed'] as const
export type ChangeReason = (typeof CHANGE_REASONS)[number]

/**
 * Why a peer was not pulled, or why we stopped its pull ourselves: not the peer's failure.
 * A `sync` that meets one of these says `skip` and does not fail, and the loop reports no pull.
 */
export const SKIP_REASONS = ['paused', 'handshake_pending', 'revoked', 'removed', 'stopped', 'superseded', ...CHANGE_REASONS] as const
export type SkipReason = (typeof SKIP_REASONS)[number]

/** Why the loop cuts a pull in flight: a relationship change, our shutdown, or its time budget ran out. */
export type StopReason = SkipReason | 'timeout'

/** A non-2xx answer from a peer or rendezvous that has no code of its own. */
export type HttpStatusCode = `http_${number}`

export const ERROR_CODES = [
  // Answers of the local API, the peer API and the rendezvous ({"error": code}); errors.ts maps them to statuses.
  'bad_input',
  'unauthorized',
  'clock_skew',
  'replay',
  'forbidden',
  'not_found',
  'conflict',
  'peer_exists',
  'too_large',
  'sealed_required',
  'bad_seal',
  'rate_limited',
  'bad_home',
  'bad_headers',
  'bad_proof',
  'too_many_ids',
  'full',
  'internal',
  'body_timeout',
  'protocol_unsupported',
  'stale',
  // A pull that failed (err= in the sync line, last_error, `sync`'s ERR lines).
  'request_failed',
  'timeout',
  'bad_signature',
  'bad_response',
  'quota_exceeded',
  'proxy_cut',
  // The CLI and the pod's own start-up.
  'usage',
  'not_running',
  'no_pod',
  'port_in_use',
  'vault_error',
  'bad_backup',
  'backup_failed',
  'export_failed',
  'schema_too_new',
  'unsupported',
  // The disk is full (or a restore would not fit): writes are refused until space is freed.
  'disk_full',
  'no_space',
] as const
export type ErrorCode = (typeof ERROR_CODES)[number] | HttpStatusCode

/**
 * What a `PodError` carries, and what `SyncResult.error` says: the request or pull failed
 * (ErrorCode), or the pull did not happen or was stopped by us (SkipReason).
 */
export type PodErrorCode = ErrorCode | SkipReason
export type SyncResultCode = PodErrorCode

const SKIP_SET: ReadonlySet<string> = new Set(SKIP_REASONS)
const CHANGE_SET: ReadonlySet<string> = new Set(CHANGE_REASONS)
const ERROR_SET: ReadonlySet<string> = new Set(ERROR_CODES)
const STATUS_SET: ReadonlySet<string> = new Set(PEER_STATUSES)

/** True for a result of a peer we did not pull on purpose (paused, pending, removed, …). */
export function isSkipReason(code: string | null | undefined): code is SkipReason {
  return code != null && SKIP_SET.has(code)
}

/** True for a change under a pull after which the peer is pulled again at once. */
export function isChangeReason(code: string | null | undefined): code is ChangeReason {
  return code != null && CHANGE_SET.has(code)
}

/** True for a listed code or `http_<status>`; lets a client type what a pod answered. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && (ERROR_SET.has(code) || /^http_\d{3}$/.test(code))
}

export function isPeerStatus(value: unknown): value is PeerStatus {
  return typeof value === 'string' && STATUS_SET.has(value)
}

/** Position of a status in PEER_STATUSES (problems first), for sorting. */
export function statusRank(status: PeerStatus): number {
  return PEER_STATUSES.indexOf(status)
}
