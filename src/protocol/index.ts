/**
 * src/protocol — the federation wire in one place (docs/PROTOCOL.md): routes, headers, limits,
 * the schema of every message in both directions, encoding, Bearer and response signatures, and
 * sealed bodies. A leaf: it imports only src/lib, valibot and node:crypto, and the pod's http,
 * sync, store, identity and rendezvous layers import it, so both sides of a message share one
 * definition.
 */
export * from './wire'
export * from './version'
export * from './ids'
export { globLimitProblem, scopeLimitProblem, WireScopeSchema } from './scope'
export {
  decodeSyncRequest,
  memoizedRequestDecoder,
  decodeSyncResponse,
  encodeSyncRequest,
  encodeSyncResponse,
  SyncRequestSchema,
  SyncResponseSchema,
  WireEntrySchema,
  type SyncRequest,
  type SyncRequestInput,
  type SyncResponse,
  type WireEntry,
} from './sync-messages'
export {
  hashBody,
  newNonce,
  parseAuthorization,
  signRequest,
  signResponse,
  verifyRequest,
  verifyResponse,
  type Body,
  type NonceStore,
  type ParsedAuthorization,
} from './signing'
export { PairKey } from './pair-key'
export {
  openRequest,
  openResponse,
  openResponseAsync,
  sealKeys,
  sealRequest,
  sealResponse,
  sealResponseFast,
  SealError,
  SEAL_OVERHEAD_BYTES,
  type SealKeys,
} from './seal'
export {
  BadSignature,
  openSyncRequest,
  openSyncResponse,
  openSyncResponseAsync,
  openSyncAnswer,
  decodeOpenedAnswer,
  asText,
  type OpenedAnswer,
  sealSyncRequest,
  sealSyncResponse,
  sealSyncResponseFast,
  type OutgoingSyncRequest,
} from './sync-exchange'
export {
  LookupAnswerSchema,
  LookupKeySchema,
  PeerIdSchema,
  RegisterSchema,
  ReleaseSchema,
  RELEASE_PROOF_SUBJECT,
  type ReleaseBody,
  RendezvousKeyAnswerSchema,
  type RegisterBody,
} from './rendezvous-messages'
