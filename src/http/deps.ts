/**
 * What the HTTP layer needs from the rest of the pod, declared narrowly. src/pod wires the
 * real implementations; tests may pass their own.
 */
import type { Clock } from '../lib/clock'
import type { Logger } from '../lib/log'
import type { Identity, PeerRegistry } from '../identity'
import type { PeerHeaders } from '../config'
import type { NonceCache } from './nonce-cache'
import type { Store, WireEntry } from '../store'
import type { PeersOverview, PeerTestReport, SyncResult } from '../api/types'
import type { PodEvents, WaiterRegistry } from '../live'

export type { PeersOverview, PeerView, SyncResult } from '../api/types'

export interface AppDeps {
  identity: Identity
  peers: PeerRegistry
  store: Store
  log: Logger
  clock: Clock
  version: string
  /** pod.toml `public_prefixes` and `max_content_bytes` (MCP tells agents both). */
  publicPrefixes: readonly string[]
  maxContentBytes: number
  nonces: NonceCache
  /** Peers with status, sync state and copy counts. */
  peersOverview(): PeersOverview
  /** Pull now from one peer or all; resolves with per-peer results. */
  syncNow(peer?: string): Promise<SyncResult[]>
  /** A relationship was removed or edited: the sync loop stops a pull that no longer applies. */
  peerChanged?(peerId: string): void
  /** URL to record for a new peer that came without one (rendezvous when configured, else ""). */
  defaultPeerUrl(peerId: string): string
  allowedOrigins(): string[]
  /** A well-formed Bearer named a caller that is not a current peer (display only; untrusted id). */
  onUnknownCaller?(callerId: string): void
  /** Called after every peer-facing sync request we answered (metrics, the access log). */
  onServed?(peerId: string, count: number, ms: number, entries?: readonly WireEntry[], scope?: readonly string[]): void
  /** Rendezvous heartbeat state (null when no rendezvous is configured). */
  rendezvousState?(): { registered: boolean; last_ok_at: string | null; last_error: string | null; advertised_url: string; rendezvous_url: string } | null
  /** Prometheus text for GET /metrics. */
  metrics?(): string
  /** The pod's http URL (the panel), for `GET /status`. */
  panelUrl?(): string
  /** Per-peer secret request headers (set, list masked, unset). */
  peerHeaders?: PeerHeaders
  /** Runs `peer test` against one peer (resolve, connect, TLS, identity, signed round trip, clock). */
  testPeer?(peerId: string): Promise<PeerTestReport>
  /** pod.toml `advertise`: read it, replace it (checked, written atomically, used at once). */
  advertise?: { list(): readonly string[]; set(urls: string[]): string[] }
  /** Held long-polls of /peer/sync (absent: `wait` is accepted and answered at once). */
  waiters?: WaiterRegistry
  /** What GET /events streams (memories committed, peer status). */
  events?: PodEvents
  /** Request duration observer (metrics). */
  observeRequest?(route: string, status: number, ms: number): void
}
