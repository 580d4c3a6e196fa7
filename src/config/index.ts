/**
 * src/config — how the operator configures this pod: pod.toml (listen, advertise, prefixes,
 * limits, rendezvous), what it advertises and the per-peer secret request headers. Below
 * identity: it imports only src/lib and src/protocol, so opening a home can read it.
 */
export type { PodConfig, RendezvousConfig } from './types'
export {
  ADVERTISE_MAX_URLS,
  DEFAULT_LISTEN,
  DEFAULT_MAX_CONTENT_BYTES,
  DEFAULT_MAX_PEER_BYTES,
  DEFAULT_PUBLIC_PREFIXES,
  DEFAULT_SYNC_INTERVAL_S,
  defaultPodName,
  formatPodConfig,
  loadPodConfig,
  parseListen,
  parsePodConfig,
  savePodConfig,
  updatePodConfig,
} from './pod-config'
export {
  advertiseWarning,
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
export {
  PeerHeaders,
  BadPeerHeaders,
  headerNameProblem,
  headerValueProblem,
  maskHeaderValue,
  ORIGINS_KEY,
  PEER_HEADERS_MAX,
  type HeadersForUrl,
  type PeerHeaderView,
} from './peer-headers'
export { defaultHeaderOrigins, headersWithheldBecause, originOf, originProblem } from './header-origins'
