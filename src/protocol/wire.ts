/**
 * The names and numbers of the federation wire (docs/PROTOCOL.md): routes, header names, content
 * types, signature domains and every limit a pod enforces or relies on. Nothing else in src/
 * spells one of these: import it from here (src/protocol/index.ts).
 */

// ---- Routes (logical: a proxy may mount a pod under a path prefix) -------------------------

/** The only peer-facing route besides /healthz. Also the ROUTE inside the Bearer MAC. */
export const SYNC_ROUTE = '/peer/sync'
/** `{"ok": true, "pod_id", "version", "protocol"}`, no auth. */
export const HEALTHZ_ROUTE = '/healthz'
/** Rendezvous: its X25519 public key, for the registration proof. */
export const RENDEZVOUS_INFO_ROUTE = '/api/rendezvous'
/** Rendezvous: register or refresh a pod's URL (token + proof of key possession). */
export const RENDEZVOUS_REGISTER_ROUTE = '/api/peers/register'
/** Rendezvous: `<this>/<peer-id>` looks a pod up (its key in PEER_KEY_HEADER or `?key=`). */
export const RENDEZVOUS_LOOKUP_ROUTE = '/api/peers/lookup'

// ---- Headers and content types -------------------------------------------------------------

/** The protocol version a /peer/sync request asks for (absent: 2) and its answer was made in. */
export const PROTOCOL_HEADER = 'mzm-protocol'
/** Response MAC of a 200 /peer/sync answer. Header names are lowercase, as fetch reports them. */
export const SIGNATURE_HEADER = 'mzm-signature'
/** A rendezvous lookup's key travels here, so it stays out of URLs and access logs. */
export const PEER_KEY_HEADER = 'mzm-peer-key'
/** Both /peer/sync bodies of a 200 exchange. */
export const SEALED_CONTENT_TYPE = 'application/vnd.mzm.sealed'
/** Error answers, /healthz and the rendezvous. */
export const JSON_CONTENT_TYPE = 'application/json'

// ---- Signature and key-derivation domains --------------------------------------------------

/** `Authorization: Bearer <scheme>.<caller>.<ts>.<nonce>.<mac>` and the request MAC's first line. */
export const BEARER_SCHEME = 'mzm1'
/** First line of the response MAC (Mzm-Signature) and of the response seal's AAD. */
export const RESPONSE_DOMAIN = 'mzm1-resp'
/** HKDF salt of the pair key. */
export const PAIR_SALT = 'mzm-pair-v1'
/** HKDF salt of the seal keys. */
export const SEAL_SALT = 'mzm-seal-v1'
/** HKDF salt of the rendezvous proof key K. */
export const RENDEZVOUS_PROOF_SALT = 'mzm-rdv-v1'
/** First line of the rendezvous proof's HMAC message. */
export const RENDEZVOUS_PROOF_DOMAIN = 'mzm-rdv1'

// ---- Handshake URL --------------------------------------------------------------------------

/** Advertised URLs a handshake URL carries (contract Part 1b): tailnet, LAN, public tunnel, one spare. */
export const HANDSHAKE_MAX_URLS = 4

// ---- Authentication ------------------------------------------------------------------------

/** A request whose ts is further than this from the callee's clock is refused (`clock_skew`). */
export const MAX_CLOCK_SKEW_S = 300
/** A nonce is remembered this long: twice the skew window, so no accepted ts outlives its nonce. */
export const NONCE_WINDOW_MS = 2 * MAX_CLOCK_SKEW_S * 1000
/** Random bytes in a request nonce (22 base64url characters). */
export const NONCE_BYTES = 16
/** A rendezvous registration whose ts is further than this from its clock is refused. */
export const RENDEZVOUS_MAX_SKEW_S = 300

// ---- /peer/sync limits ---------------------------------------------------------------------

/** Request body, sealed bytes as sent: refused (413) from Content-Length or as it streams. */
export const SYNC_REQUEST_MAX_BYTES = 16 * 1024
/** Response body a puller reads, counted as bytes arrive; past it the pull aborts (`too_large`). */
export const SYNC_RESPONSE_MAX_BYTES = 64 * 1024 * 1024
/** `limit`: entries per page. */
export const PAGE_LIMIT_MIN = 1
export const PAGE_LIMIT_MAX = 1000
export const PAGE_LIMIT_DEFAULT = 500
/** `wait`: seconds a callee may hold an empty answer (long-poll); under tunnels' 100 s idle limits. */
export const WAIT_MAX_S = 50
export const WAIT_DEFAULT_S = 0
/** `since` and the answer's `cursor`: opaque, at most this long. */
export const CURSOR_MAX_CHARS = 64
/** A scope: at most this many globs, each 1..GLOB_MAX_CHARS characters (UTF-16 code units). */
export const SCOPE_MAX_GLOBS = 16
export const GLOB_MAX_CHARS = 128
/** The scope a request without one asks for (a new peer's scope in peers.toml is NEW_PEER_SCOPE, `*`). */
export const DEFAULT_SCOPE: readonly string[] = Object.freeze(['public:*'])
/** A label (own memories, and copies a puller keeps), in characters. */
export const LABEL_MAX_CHARS = 256
/**
 * Characters no label may hold: C0, DEL and C1 controls, and the bidi embeddings, overrides and
 * isolates (U+202A–E, U+2066–9), which reorder what a terminal or the panel shows ("Trojan
 * Source"). LRM/RLM marks stay allowed: right-to-left text uses them. A copy whose label has one
 * is dropped and counted by the puller.
 */
export const LABEL_FORBIDDEN_RE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/
