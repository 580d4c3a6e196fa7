/**
 * src/identity — who we are and whom we trust: the home directory and its files, keys,
 * handshake URLs, pair keys and peers.toml. Imports nothing from http or sync; the wire's
 * formats (ids, keys, signatures) come from src/protocol.
 */
export type { HomePaths, PeerEntry, PeerRecord, PodConfig, PodId, PublicKey, RendezvousConfig } from './types'
export { homePaths, openHome, resolveHome, HOME_ENV, type PodHome } from './home'
export { lockHome, type HomeLock } from './home-lock'
export {
  DEFAULT_PUBLIC_PREFIXES,
  DEFAULT_LISTEN,
  ADVERTISE_MAX_URLS,
  updatePodConfig,
  DEFAULT_SYNC_INTERVAL_S,
  DEFAULT_MAX_CONTENT_BYTES,
  formatPodConfig,
  loadPodConfig,
  parsePodConfig,
  parseListen,
  savePodConfig,
} from './pod-config'
export { isPodId, parsePodId, shortId } from './pod-id'
export { isPublicKey, keyTextProblem, parsePublicKey } from './keys'
export { createIdentity, type Identity, type IdentityInit } from './identity'
export { formatHandshakeUrl, parseHandshakeUrl, HANDSHAKE_MAX_URLS, HANDSHAKE_SCHEME, type Handshake } from './handshake'
export { derivePairKeyBytes, importPairKey, type PairKey } from './pair-key'
export {
  deriveRendezvousProofKey,
  signRendezvousProof,
  verifyRendezvousProof,
  RENDEZVOUS_MAX_SKEW_S,
  type RendezvousProofKey,
} from './rendezvous-proof'
export { loadOrCreateX25519KeyPair, type X25519KeyPair } from './key-file'
export { NonceCache, type NonceVerdict } from './nonce-cache'
export { UnknownCallers, UNKNOWN_CALLERS_MAX, type UnknownCaller } from './unknown-callers'
export { PeerRegistry, type PeerInput, type PeerPatch } from './peer-registry'
export { PeerHeaders, BadPeerHeaders, headerNameProblem, headerValueProblem, maskHeaderValue, PEER_HEADERS_MAX, type PeerHeaderView } from './peer-headers'
export { DEFAULT_SCOPE, normalizePeerUrl, normalizeScope, peerUrls, PEER_MAX_URLS, RENDEZVOUS_SCHEME, ScopeSchema } from './peers-toml'
export {
  checkAdvertiseList,
  checkAdvertiseReach,
  isLoopbackHost,
  isTailnetAddress,
  isWildcardHost,
  suggestAdvertise,
  type Interfaces,
  type ReachCheck,
  type Suggestion,
} from './advertise'
