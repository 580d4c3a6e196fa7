/**
 * src/identity — who we are and whom we trust: the home directory and its files, keys,
 * handshake URLs, pair keys and peers.toml. Imports nothing from http or sync; the wire's
 * formats (ids, keys, signatures) come from src/protocol, pod.toml from src/config.
 */
export type { HomePaths, PeerEntry, PeerRecord, PodId, PublicKey } from './types'
export { homePaths, openHome, resolveHome, HOME_ENV, type PodHome } from './home'
export { lockHome, type HomeLock } from './home-lock'
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
export { PeerRegistry, type PeerInput, type PeerPatch } from './peer-registry'
export { NEW_PEER_SCOPE, normalizePeerUrl, normalizeScope, peerUrls, PEER_MAX_URLS, RENDEZVOUS_SCHEME, ScopeSchema } from './peers-toml'
