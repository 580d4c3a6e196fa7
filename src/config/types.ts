/**
 * The shape of pod.toml once validated and normalised (pod-config.ts reads and writes it).
 */
import type { PodId } from '../protocol'

export interface RendezvousConfig {
  url: string
  token: string
}

/** pod.toml, validated and normalised. */
export interface PodConfig {
  pod_id: PodId
  name: string
  listen: string // "127.0.0.1:8765"
  /** Base URLs other pods reach us at, in preference order (handshake `url=`, rendezvous: the first). */
  advertise: string[]
  sync_interval: number // seconds
  public_prefixes: string[]
  max_content_bytes: number
  /** Quota of copies from one peer, label + content bytes (default 256 MiB). */
  max_peer_bytes: number
  allowed_origins: string[]
  rendezvous: RendezvousConfig | null
}
