/**
 * Shared identity types. Branded strings so a raw string cannot be passed where a checked
 * pod id or key is expected; parsing lives in pod-id.ts / keys.ts.
 */
import type { PodId, PublicKey } from '../protocol'

export type { PodId, PublicKey }

/** Paths of every file in a pod's home; never a global, always from homePaths(root). */
export interface HomePaths {
  root: string
  podToml: string
  peersToml: string
  peerKeysDir: string
  selfKey: string
  peerKeyDir: string
  /** `peer-keys/headers/`: per-peer secret request headers, `<pod-id>.toml`, 0600. */
  peerHeadersDir: string
  vaultKey: string
  adminToken: string
  db: string
  lock: string
  /** The running pod's admin socket (CLI ↔ pod). */
  socket: string
  /** Journal of recent request nonces, so a replay is refused across restarts too. */
  nonces: string
}

/** One relationship as written in peers.toml. */
export interface PeerEntry {
  id: PodId
  name: string
  /** https://… or mzm-rendezvous://<id>; "" = pending; an array (2+) is tried in order (see peerUrls). */
  url: string | string[]
  sync: boolean
  scope: string[] // globs over labels
  /** Hold a long-poll open to this peer (peers.toml `live`; absent = true). */
  live?: boolean
}

/** A peers.toml table plus whether its key file exists (no key = revoked). */
export interface PeerRecord extends PeerEntry {
  key: PublicKey | null
}
