/**
 * src/store: the pod's SQLite database. Memories (private ones vault-encrypted), recall over a
 * blind full-text index, the change feed served to peers, copies pulled from peers and the
 * per-peer sync state.
 */
export { openStore, type OpenStoreOptions } from './sqlite'
export { isPublicLabel, isGateEligible, copyLabel, PEER_LABEL_PREFIX } from './gate'
export { labelSchema, contentSchema, checkContent, LABEL_MAX_CHARS } from './schemas'
export { VAULT_PREFIX } from './vault'
export { LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX } from './local-memories'
export { IMPORT_BATCH_MAX } from './import-memories'
export { RECALL_K_DEFAULT, RECALL_K_MAX } from './recall'
export { FEED_LIMIT_MAX } from './change-feed'
export { looseDbFiles, formatMode } from './file-modes'
export { startBackgroundIndexer, type BackgroundIndexer } from './background-indexer'
export type * from './types'
export { snapshotDatabase } from './snapshot'
export { unscannedCount } from './scan-backfill'
export { noSyncState } from './peer-state'
