/**
 * Where to reach each peer: its URLs in order (peers.toml `url`, one or a list), each
 * `mzm-rendezvous://<id>` replaced by the URL a rendezvous lookup returns (cached 240 s, last
 * good URL on failure), and the URL that last verified tried first. Also runs our own
 * rendezvous heartbeat when pod.toml has a [rendezvous] table. The rendezvous is never trusted
 * for integrity: responses from whatever URL it names must carry the pair-key signature.
 */
import { networkInterfaces } from 'node:os'
import type { Clock } from '../lib/clock'
import { localHttpUrl } from '../lib/http-url'
import type { Logger } from '../lib/log'
import { peerUrls, RENDEZVOUS_SCHEME, type PeerRecord } from '../identity'
import type { RendezvousConfig } from '../config'
import { createHeartbeat, createRendezvousClient, createResolver, type LookupMiss, type RendezvousSigner } from './rendezvous-client'

export interface HeartbeatState {
  registered: boolean
  last_ok_at: string | null
  last_error: string | null
  advertised_url: string
  /** The rendezvous this running pod heartbeats to (pod.toml may have changed since boot). */
  rendezvous_url: string
}

export interface PeerLocator {
  /**
   * The base URLs to try for this peer, in order: its `url` list with each
   * `mzm-rendezvous://<id>` replaced by what a lookup returns (dropped when there is none), and
   * the URL that last verified moved to the front. [] = nothing to pull from yet.
   */
  resolve(peer: PeerRecord): Promise<string[]>
  /** The URL that last verified, else the first direct or last resolved one, without a lookup (status views). */
  reachable(peer: PeerRecord): string | null
  /** A pull from `url` verified under the pair key: it is tried first next time (and is the rendezvous fallback). */
  confirm(peer: PeerRecord, url: string): void
  /** Starts our signed heartbeat (identity proves possession of our key); null without a rendezvous. */
  startHeartbeat(opts: { identity: RendezvousSigner; advertiseUrl: () => string }): { stop(): Promise<void>; beat(): Promise<void> } | null
  heartbeatState(): HeartbeatState | null
  /** Why the last rendezvous lookup of this peer found no URL (null: it found one, none was made, or it has no rendezvous URL). */
  lookupMiss(peer: PeerRecord): LookupMiss | null
}

const isDirect = (url: string) => /^https?:\/\//.test(url)

/** `candidates` with `preferred` moved to the front when it is one of them. */
export function preferVerified(candidates: readonly string[], preferred: string | undefined): string[] {
  if (preferred === undefined || !candidates.includes(preferred)) return [...candidates]
  return [preferred, ...candidates.filter((u) => u !== preferred)]
}

export function createPeerLocator(opts: { rendezvous: RendezvousConfig | null; clock: Clock; log: Logger; fetch?: typeof fetch }): PeerLocator {
  const client = opts.rendezvous ? createRendezvousClient({ url: opts.rendezvous.url, token: opts.rendezvous.token, fetch: opts.fetch }) : null
  const resolver = client ? createResolver({ client, clock: opts.clock, log: opts.log }) : null // log: an outage shows as op=resolve lines
  const lastResolved = new Map<string, string>()
  /** Per peer, the URL whose pull last verified (keyed with the peer key: a new key proves nothing old). */
  const verified = new Map<string, { key: string; url: string }>()
  let heartbeat: ReturnType<typeof createHeartbeat> | null = null
  const preferredOf = (peer: PeerRecord) => {
    const v = verified.get(peer.id)
    return v && v.key === peer.key ? v.url : undefined
  }

  return {
    async resolve(peer) {
      const out: string[] = []
      for (const url of peerUrls(peer)) {
        if (isDirect(url)) out.push(url)
        else if (url.startsWith(RENDEZVOUS_SCHEME) && resolver && peer.key) {
          // On lookup failure the resolver falls back to the last *confirmed* URL only.
          const found = await resolver.resolve(peer.id, peer.key)
          if (found) {
            lastResolved.set(peer.id, found)
            out.push(found)
          }
        }
      }
      return preferVerified([...new Set(out)], preferredOf(peer))
    },
    confirm(peer, url) {
      if (peer.key) verified.set(peer.id, { key: peer.key, url })
      if (resolver && peer.key && peerUrls(peer).some((u) => u.startsWith(RENDEZVOUS_SCHEME))) resolver.confirm(peer.id, peer.key, url)
    },
    reachable(peer) {
      const urls = peerUrls(peer)
      const preferred = preferredOf(peer)
      if (preferred) return preferred
      const rendezvous = urls.some((u) => u.startsWith(RENDEZVOUS_SCHEME)) ? lastResolved.get(peer.id) : undefined
      return urls.find(isDirect) ?? rendezvous ?? null
    },
    startHeartbeat({ identity, advertiseUrl }) {
      if (!client) return null
      heartbeat = createHeartbeat({ client, identity, advertiseUrl, clock: opts.clock, log: opts.log })
      heartbeat.start()
      return heartbeat
    },
    heartbeatState: () => (heartbeat && opts.rendezvous ? { ...heartbeat.state(), rendezvous_url: opts.rendezvous.url } : null),
    lookupMiss(peer) {
      if (!resolver || !peerUrls(peer).some((u) => u.startsWith(RENDEZVOUS_SCHEME))) return null
      return resolver.miss(peer.id)
    },
  }
}

/**
 * The URL we tell the rendezvous when pod.toml advertises none: the address we listen on,
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
