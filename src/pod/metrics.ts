/**
 * The pod's /metrics: per-peer last success, consecutive failures, memories pulled and served,
 * request durations per route, memory counts by kind, rendezvous heartbeat state.
 */
import { Counter, Histogram, renderGauge } from '../lib/metrics'
import type { PeerView } from '../api/types'
import type { StoreStats } from '../store'
import type { HeartbeatState } from '../sync/peer-locator'

export interface PodMetricsSources {
  peers(): PeerView[]
  /** Failed pulls in a row, by peer id (a peer with none may be absent). */
  consecutiveFailures(): ReadonlyMap<string, number>
  stats(): StoreStats
  heartbeat(): HeartbeatState | null
  /** Long-polls of peers held right now. */
  heldPolls?(): number
}

export function createPodMetrics(sources: PodMetricsSources) {
  const pulled = new Counter('mazemaker_peer_memories_pulled_total', 'Entries fetched from a peer (memories and tombstones)')
  const served = new Counter('mazemaker_peer_memories_served_total', 'Entries served to a peer on /peer/sync')
  const pulls = new Counter('mazemaker_peer_pulls_total', 'Pull attempts per peer and outcome')
  const dropped = new Counter('mazemaker_peer_copies_dropped_total', 'Copies from a peer dropped for breaking our rules (label, content size)')
  const requests = new Histogram('mazemaker_http_request_duration_seconds', 'HTTP request duration per route')
  // The series every /peer/sync answer adds to, by peer and by route and status class: a hub
  // answers thousands a second, so each is found once rather than keyed from its labels each time.
  const servedTo = new Map<string, { inc(by?: number): void }>()
  const requestSeries = new Map<string, { observe(value: number): void }[]>()

  return {
    onPulled(peerId: string, result: { ok: boolean; fetched: number; dropped?: number; error?: string }) {
      pulls.inc({ peer: peerId, outcome: result.ok ? 'ok' : (result.error ?? 'error') })
      if (result.fetched) pulled.inc({ peer: peerId }, result.fetched)
      if (result.dropped) dropped.inc({ peer: peerId }, result.dropped)
    },
    onServed(peerId: string, count: number) {
      let series = servedTo.get(peerId)
      if (!series) servedTo.set(peerId, (series = served.series({ peer: peerId })))
      series.inc(count)
    },
    observeRequest(route: string, status: number, ms: number) {
      const statusClass = Math.floor(status / 100)
      let byClass = requestSeries.get(route)
      if (!byClass) requestSeries.set(route, (byClass = []))
      let series = byClass[statusClass]
      if (!series) series = byClass[statusClass] = requests.series({ route, status: `${statusClass}xx` })
      series.observe(ms / 1000)
    },
    render(): string {
      const peers = sources.peers()
      const failures = sources.consecutiveFailures()
      const stats = sources.stats()
      const hb = sources.heartbeat()
      const toSeconds = (iso: string | null) => (iso ? Date.parse(iso) / 1000 : 0)
      const blocks = [
        renderGauge(
          'mazemaker_peer_last_success_timestamp_seconds',
          'Unix time of the last successful pull from a peer (0 = never)',
          peers.map((p) => ({ labels: { peer: p.id, name: p.name }, value: toSeconds(p.last_sync_at) })),
        ),
        renderGauge(
          'mazemaker_peer_consecutive_failures',
          'Failed pulls in a row per peer',
          peers.map((p) => ({ labels: { peer: p.id }, value: failures.get(p.id) ?? 0 })),
        ),
        renderGauge(
          'mazemaker_peer_up',
          'Peer status (1 for the current status)',
          peers.map((p) => ({ labels: { peer: p.id, status: p.status }, value: 1 })),
        ),
        renderGauge(
          'mazemaker_peer_copies',
          'Copies held per peer',
          peers.map((p) => ({ labels: { peer: p.id }, value: p.memories })),
        ),
        pulled.render(),
        dropped.render(),
        served.render(),
        pulls.render(),
        renderGauge('mazemaker_memories', 'Memories by kind', [
          { labels: { kind: 'public' }, value: stats.public },
          { labels: { kind: 'private' }, value: stats.private },
          { labels: { kind: 'peer_copy' }, value: stats.peer_copies },
        ]),
        renderGauge(
          'mazemaker_rendezvous_registered',
          'Rendezvous heartbeat state (1 registered, 0 failing, absent when not configured)',
          hb ? [{ value: hb.registered ? 1 : 0 }] : [],
        ),
        renderGauge(
          'mazemaker_rendezvous_last_ok_timestamp_seconds',
          'Unix time of the last accepted heartbeat',
          hb ? [{ value: toSeconds(hb.last_ok_at) }] : [],
        ),
        renderGauge('mazemaker_live_held_requests', 'Long-polls from peers held open right now', sources.heldPolls ? [{ value: sources.heldPolls() }] : []),
        requests.render(),
      ]
      return blocks.join('\n') + '\n'
    },
  }
}
