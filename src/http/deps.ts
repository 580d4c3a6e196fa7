/**
 * What the HTTP layer needs from the rest of the pod. Each route factory declares the few deps
 * it uses (MemoryRouteDeps, PeerSyncDeps, …); AppDeps is their sum plus what createApp itself
 * uses, and only src/pod builds one.
 */
import type { PeersOverview } from '../api/types'
import type { Identity } from '../identity'
import type { Logger } from '../lib/log'
import type { Store } from '../store'
import type { AdvertiseAdminDeps } from './advertise-admin'
import type { EventRouteDeps } from './events'
import type { MemoryRouteDeps } from './memories'
import type { PeerAdminDeps } from './peer-admin'
import type { PeerHeadersAdminDeps } from './peer-headers-admin'
import type { PeerSyncDeps } from './peer-sync'

export type { PeersOverview, PeerView, SyncResult } from '../api/types'

/** What createApp uses itself: auth, CORS, body limits, /healthz, /status, /metrics, /mcp. */
export interface AppShellDeps {
  identity: Pick<Identity, 'podId' | 'name' | 'checkAdminToken'>
  store: Store
  log: Logger
  /** The pod's home directory: a full disk is reported, and its free space shown, for its filesystem. */
  homeDir: string
  version: string
  /** pod.toml `public_prefixes` and `max_content_bytes` (MCP tells agents both; the body limit follows the second). */
  publicPrefixes: readonly string[]
  maxContentBytes: number
  allowedOrigins(): string[]
  /** Peers with status, sync state and copy counts (MCP's peers tool). */
  peersOverview(): PeersOverview
  /** The overview's summary line alone, for `/status` (statuses only: cheap on a hub). */
  peersSummary(): string
  /** Rendezvous heartbeat state (null when no rendezvous is configured). */
  rendezvousState(): { registered: boolean; last_ok_at: string | null; last_error: string | null; advertised_url: string; rendezvous_url: string } | null
  /** Prometheus text for GET /metrics. */
  metrics(): string
  /** The pod's http URL (the panel), for `GET /status`. */
  panelUrl(): string
  /** An address reached the edge's cap of unauthenticated requests in flight (told once per episode). */
  onEdgeCap?(address: string): void
  /** The TCP server's idle timeout (ms): how long a kept-alive connection may stay silent before it closes. */
  connectionIdleMs?: number
  /** Request duration observer (metrics). */
  observeRequest(route: string, status: number, ms: number): void
}

export type AppDeps = AppShellDeps & MemoryRouteDeps & PeerSyncDeps & PeerAdminDeps & AdvertiseAdminDeps & PeerHeadersAdminDeps & EventRouteDeps
