/**
 * Where to reach each peer: its direct URL, or — for `mzm-rendezvous://<id>` — the URL a
 * rendezvous lookup returns (cached 240 s, last good URL on failure). Also runs our own
 * rendezvous heartbeat when pod.toml has a [rendezvous] table. The rendezvous is never trusted
 * for integrity: responses from whatever URL it names must carry the pair-key signature.
 */
import { networkInterfaces } from 'node:os'
import type { Clock } from '../lib/clock'
import { localHttpUrl } from '../lib/http-url'
import type { Logger } from '../lib/log'
import { RENDEZVOUS_SCHEME, type PeerRecord, type RendezvousConfig } from '../identity'
import { createHeartbeat, createRendezvousClient, createResolver, type RendezvousSigner } from './rendezvous-client'

export interface HeartbeatState {
  registered: boolean
  last_ok_at: string | null
  last_error: string | null
  advertised_url: string
  /** The rendezvous this running pod heartbeats to (pod.toml may have changed since boot). */
  rendezvous_url: string
}

export interface PeerLocator {
  resolve(peer: PeerRecord): Promise<string | null>
  /** Direct URL or last resolved one, without a lookup (for status views). */
  reachable(peer: PeerRecord): string | null
  /** A pull from `url` verified under the pair key: it may serve as the fallback when lookups fail. */
  confirm(peer: PeerRecord, url: string): void
  /** Starts our signed heartbeat (identity proves possession of our key); null without a rendezvous. */
  startHeartbeat(opts: { identity: RendezvousSigner; advertiseUrl: () => string }): { stop(): Promise<void> } | null
  heartbeatState(): HeartbeatState | null
}

export function createPeerLocator(opts: { rendezvous: RendezvousConfig | null; clock: Clock; log: Logger; fetch?: typeof fetch }): PeerLocator {
  const client = opts.rendezvous ? createRendezvousClient({ url: opts.rendezvous.url, token: opts.rendezvous.token, fetch: opts.fetch }) : null
  const resolver = client ? createResolver({ client, clock: opts.clock, log: opts.log }) : null // log: an outage shows as op=resolve lines
  const lastResolved = new Map<string, string>()
  let heartbeat: ReturnType<typeof createHeartbeat> | null = null

  const direct = (peer: PeerRecord) => (/^https?:\/\//.test(peer.url) ? peer.url : null)

  return {
    async resolve(peer) {
      const url = direct(peer)
      if (url || !peer.url.startsWith(RENDEZVOUS_SCHEME) || !resolver || !peer.key) return url
      // On lookup failure the resolver falls back to the last *confirmed* URL only.
      const found = await resolver.resolve(peer.id, peer.key)
      if (found) lastResolved.set(peer.id, found)
      return found
    },
    confirm(peer, url) {
      if (resolver && peer.key && peer.url.startsWith(RENDEZVOUS_SCHEME)) resolver.confirm(peer.id, peer.key, url)
    },
    reachable(peer) {
      return direct(peer) ?? (peer.url.startsWith(RENDEZVOUS_SCHEME) ? (lastResolved.get(peer.id) ?? null) : null)
    },
    startHeartbeat({ identity, advertiseUrl }) {
      if (!client) return null
      heartbeat = createHeartbeat({ client, identity, advertiseUrl, clock: opts.clock, log: opts.log })
      heartbeat.start()
      return heartbeat
    },
    heartbeatState: () => (heartbeat && opts.rendezvous ? { ...heartbeat.state(), rendezvous_url: opts.rendezvous.url } : null),
  }
}

/**
 * The URL we tell the rendezvous when pod.toml has no advertise_url: the address we listen on,
 * or, when listening on every interface, the first non-internal IPv4 address.
 */
export function defaultAdvertiseUrl(listenHost: string, port: number): string {
  if (listenHost !== '0.0.0.0' && listenHost !== '::') {
    return localHttpUrl(listenHost, port)
  }
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return `http://${a.address}:${port}`
  }
  return `http://127.0.0.1:${port}`
}
