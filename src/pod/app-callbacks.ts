/**
 * What the HTTP app calls back into the running pod for, each a named function built from the
 * parts it needs: the record of a served page, the note of an unknown caller, `peer test`, and
 * the advertise list.
 */
import type { PeerTestReport } from '../api/types'
import { checkAdvertiseList, defaultHeaderOrigins, type HeadersForUrl } from '../config'
import { peerUrls, shortId, type Identity, type PodHome } from '../identity'
import type { UnknownCallers } from '../http/unknown-callers'
import type { Clock } from '../lib/clock'
import { NotFound } from '../lib/errors'
import type { Logger } from '../lib/log'
import type { Store, WireEntry } from '../store'
import type { PeerLocator } from '../sync/peer-locator'
import { testPeer } from '../sync/peer-test'

/** After each /peer/sync we answered: the access log and served_total, then the metrics. */
export function servedRecorder(store: Pick<Store, 'recordServed' | 'recordServedPage'>, metrics: { onServed(peerId: string, count: number): void }) {
  return function onServed(peerId: string, count: number, _ms: number, entries?: readonly WireEntry[], scope?: readonly string[]): void {
    // Most polls are empty deltas: don't take the write lock (and grow the WAL) for nothing.
    // A page with entries goes to the access log (served_total too, same transaction).
    if (count > 0) {
      if (entries) store.recordServedPage(peerId, entries, scope ?? [])
      else store.recordServed(peerId, count)
    }
    metrics.onServed(peerId, count)
  }
}

/** A pod that is not our peer tried to pull: listed for the operator, and logged once an hour per pod. */
export function unknownCallerNoter(callers: UnknownCallers, clock: Clock, log: Logger) {
  return function onUnknownCaller(callerId: string): void {
    if (!callers.note(callerId, clock.now())) return
    log.warn({
      op: 'peer_sync',
      peer: shortId(callerId),
      err: 'unknown_caller',
      msg: 'a pod that is not our peer tried to pull; if you expect it, paste its handshake URL (mazemaker peer add); logged once an hour per pod',
    })
  }
}

/**
 * The secret headers a request to one peer at `url` carries (none where they may not go). A
 * header file from before `for` is bound to the origins of the peer's configured URLs (https, or
 * http to loopback), and the log says so once.
 */
export function peerHeadersFor(home: Pick<PodHome, 'headers' | 'peers'>, log: Logger) {
  return function headersFor(peerId: string, url: string): HeadersForUrl {
    return home.headers.forUrl(
      peerId,
      url,
      () => defaultHeaderOrigins(peerUrls(home.peers.get(peerId) ?? { url: '' })),
      (origins) =>
        log.info({
          op: 'peer_headers',
          peer: shortId(peerId),
          msg: `its header file named no origins: bound to ${origins.length ? origins.join(', ') : 'none (they go nowhere)'}, the https origins of its configured URLs; change with \`mazemaker peer headers for\``,
        }),
    )
  }
}

/** `peer test` against one of our peers, by id, with the pod's own locator, keys and headers. */
export function peerTester(opts: {
  home: PodHome
  locator: Pick<PeerLocator, 'resolve'>
  clock: Clock
  headersFor(peerId: string, url: string): HeadersForUrl
  fetch?: typeof fetch
  connectTimeoutMs?: number
}) {
  const { identity, peers } = opts.home
  return async function testPeerById(id: string): Promise<PeerTestReport> {
    const peer = peers.get(id)
    if (!peer) throw new NotFound(`no peer ${id}`)
    return testPeer({
      selfId: identity.podId,
      peer,
      resolve: (p) => opts.locator.resolve(p),
      pairKey: (peerId, key) => identity.pairKey(peerId, key),
      headers: (peerId, url) => opts.headersFor(peerId, url),
      now: () => opts.clock.now(),
      fetch: opts.fetch,
      connectTimeoutMs: opts.connectTimeoutMs,
    })
  }
}

/** pod.toml `advertise` of the running pod: a new first URL is registered at the rendezvous at once. */
export function advertiseControl(
  home: Pick<PodHome, 'setAdvertise'> & { identity: Pick<Identity, 'advertise'> },
  heartbeat: () => { beat(): Promise<void> } | null,
) {
  return {
    list: () => home.identity.advertise(),
    set(urls: string[]): string[] {
      const before = home.identity.advertise()[0]
      const next = home.setAdvertise(checkAdvertiseList(urls))
      // The rendezvous registers the first URL: tell it now, not at the next minute's beat.
      if (next[0] !== before) void heartbeat()?.beat()
      return next
    },
  }
}
