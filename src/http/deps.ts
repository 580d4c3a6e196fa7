/**
 * What the HTTP layer needs from the rest of the pod, declared narrowly. main/pod.ts wires the
 * real implementations; tests may pass their own.
 */
import type { Clock } from '../lib/clock'
import type { Logger } from '../lib/log'
import type { Identity, NonceCache, PeerRegistry } from '../identity'
import type { Store } from '../store'

export type PeerStatus = 'ready' | 'handshake-pending' | 'paused' | 'error' | 'revoked'

/** One peer as `/peer/peers` shows it. */
export interface PeerView {
  id: string
  name: string
  url: string
  sync: boolean
  scope: string | string[]
  status: PeerStatus
  last_sync_at: string | null
  last_error: string | null
  memories: number
  resolved_url?: string | null
}

export interface PeersOverview {
  peers: PeerView[]
  summary: string
  /** peers.toml parse problem, if any (the pod keeps using the last good copy). */
  error: string | null
}

/** Outcome of pulling from one peer. */
export interface SyncResult {
  peer: string
  ok: boolean
  fetched: number
  stored: number
  deleted: number
  ms: number
  error?: string
  detail?: string
}

export interface AppDeps {
  identity: Identity
  peers: PeerRegistry
  store: Store
  log: Logger
  clock: Clock
  version: string
  nonces: NonceCache
  /** Peers with status, sync state and copy counts. */
  peersOverview(): PeersOverview
  /** Pull now from one peer or all; resolves with per-peer results. */
  syncNow(peer?: string): Promise<SyncResult[]>
  /** URL to record for a new peer that came without one (rendezvous when configured, else ""). */
  defaultPeerUrl(peerId: string): string
  allowedOrigins(): string[]
  /** Called after every peer-facing sync request we answered (metrics). */
  onServed?(peerId: string, count: number, ms: number): void
  /** Rendezvous heartbeat state (null when no rendezvous is configured). */
  rendezvousState?(): { registered: boolean; last_ok_at: string | null; last_error: string | null; advertised_url: string; rendezvous_url: string } | null
  /** Prometheus text for GET /metrics. */
  metrics?(): string
  /** Request duration observer (metrics). */
  observeRequest?(route: string, status: number, ms: number): void
}
