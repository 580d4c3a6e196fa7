/**
 * POST /peer/sync — the only peer-facing route besides /healthz. The caller proves it is a
 * current relationship with a pair-key MAC over the sealed body; we open the request, answer one
 * page of our shareable change feed sealed for that caller, and sign the sealed bytes with the
 * same pair key. The wire itself (schemas, limits, signatures, seals) is src/protocol; this
 * file is the order of the checks and the store call.
 */
import { Hono } from 'hono'
import { AuthError, PodError, TooLarge } from '../lib/errors'
import { cancelQuietly, declaresOver, readBody } from '../lib/read-body'
import {
  encodeSyncResponse,
  memoizedRequestDecoder,
  openSyncRequest,
  parseAuthorization,
  SEALED_CONTENT_TYPE,
  sealSyncResponseFast,
  SIGNATURE_HEADER,
  SYNC_REQUEST_MAX_BYTES,
  SYNC_RESPONSE_MAX_BYTES,
  SYNC_ROUTE,
  type SyncRequest,
  verifyRequest,
} from '../protocol'
import type { Identity, PeerRegistry } from '../identity'
import type { Clock } from '../lib/clock'
import type { ChangePage, Store, WireEntry } from '../store'
import type { NonceCache } from './nonce-cache'
import type { WaiterRegistry } from '../live'
import { authenticated, BodyTimeout, bodyTimeLeftMs } from './edge-guard'
import { speaksProtocol } from './protocol-version'

const UNAUTHORIZED = 'request is not from a current peer with a valid signature'

export interface PeerSyncDeps {
  identity: Pick<Identity, 'podId' | 'pairKey'>
  peers: Pick<PeerRegistry, 'trusted' | 'trustedInBatch'>
  /** Only the change feed: what a peer may pull. */
  store: Pick<Store, 'changesSince'>
  clock: Clock
  nonces: NonceCache
  /** A well-formed Bearer named a caller that is not a current peer (display only; untrusted id). */
  onUnknownCaller?(callerId: string): void
  /** Called after every peer-facing sync request we answered (metrics, the access log). */
  onServed?(peerId: string, count: number, ms: number, entries?: readonly WireEntry[], scope?: readonly string[]): void
  /** Held long-polls of /peer/sync (absent: `wait` is accepted and answered at once). */
  waiters?: WaiterRegistry
}

/** What the handler needs of the edge guard: to mark the request authenticated, and its body's time left. */
export interface EdgeTicket {
  authenticated(): void
  bodyTimeLeftMs(): number
}

/** The route in a Hono app (pod-fetch.ts serves it without Hono; both call the same handler). */
export function peerSyncRoutes(deps: PeerSyncDeps) {
  const handle = peerSyncHandler(deps)
  return new Hono().use(SYNC_ROUTE, speaksProtocol()).post(SYNC_ROUTE, async (c) => {
    const { body, headers } = await handle(c.req.raw, { authenticated: () => authenticated(c), bodyTimeLeftMs: () => bodyTimeLeftMs(c) })
    return c.body(body, 200, headers)
  })
}

/** A 200 answer of /peer/sync: the sealed page and its headers. */
export interface SyncAnswer {
  body: Uint8Array<ArrayBuffer>
  headers: { 'content-type': string; [SIGNATURE_HEADER]: string }
}

/** POST /peer/sync after the edge guard and the protocol check: the answer, or a PodError thrown. */
export function peerSyncHandler(deps: PeerSyncDeps): (raw: Request, edge: EdgeTicket) => Promise<SyncAnswer> {
  const { identity, peers, store, nonces, clock } = deps
  // Requests decoded once per distinct text, kept frozen and shared by every asker with that text
  // (memoizedRequestDecoder).
  const decode = memoizedRequestDecoder()
  /**
   * The shared page's key of a request (cursor, scope, limit), built once per decoded request:
   * JSON.stringify on every ask was 1.6 µs of a hub's 60 µs per answered ask.
   */
  const pageKeys = new WeakMap<SyncRequest, string>()
  const pageKeyOf = (req: SyncRequest): string => {
    let key = pageKeys.get(req)
    if (key === undefined) pageKeys.set(req, (key = JSON.stringify([req.since, req.scope, req.limit])))
    return key
  }
  return async function servePeerSync(raw, edge) {
    const started = performance.now()
    // Everything that needs no body comes first, so an unauthenticated caller costs us no body
    // (contract Part 1b): the Bearer's shape and a current relationship. The timestamp window is
    // checked with the MAC (verifyRequest), since `clock_skew` goes only to a caller holding the
    // pair key (Part 1); such a body is bounded at 16 KiB like any other.
    const auth = parseAuthorization(raw.headers.get('authorization'))
    if (!auth) throw refuse(raw, new AuthError('unauthorized', UNAUTHORIZED))
    const nowMs = clock.now()
    // Checked on every request, so deleting the key file or the table revokes at once. The key
    // file is looked at for each; peers.toml once for all the requests one turn of the event loop
    // reads (a hub's re-asks arrive together): they all came in before that look, and a hand edit
    // after it is seen by the next turn's first request.
    const trusted = peers.trustedInBatch(auth.callerId)
    if (!trusted) {
      // Still `unauthorized` to the caller; the operator sees "pods that tried to pull from you".
      deps.onUnknownCaller?.(auth.callerId)
      throw refuse(raw, new AuthError('unauthorized', UNAUTHORIZED))
    }
    if (declaresOver(raw.headers, SYNC_REQUEST_MAX_BYTES)) throw refuse(raw, tooLarge())
    // A plain body is refused unread: whatever it holds already crossed every proxy in the clear.
    if (!isSealed(raw.headers.get('content-type'))) throw refuse(raw, sealedRequired())
    // Then at most 16 KiB (readBody) and the MAC over exactly those bytes; only a request
    // whose MAC verifies is opened.
    const sealed = await readBody(raw, SYNC_REQUEST_MAX_BYTES, {
      what: 'sync request',
      deadlineMs: edge.bodyTimeLeftMs(),
      onLate: () => new BodyTimeout('sync request'),
    })
    const pairKey = await identity.pairKey(auth.callerId, trusted.key)
    verifyRequest({ pairKey, auth, method: 'POST', route: SYNC_ROUTE, calleeId: identity.podId, body: sealed, nowMs, nonces })
    edge.authenticated()
    try {
      const { request: req, keys } = openSyncRequest({ pairKey, callerId: auth.callerId, calleeId: identity.podId, nonce: auth.nonce, body: sealed, decode })
      // Everyone asking at the same cursor and scope between two commits gets the same page, built
      // once: the spokes a commit wakes, and their re-asks at the new cursor.
      const waiters = deps.waiters
      const key = pageKeyOf(req)
      const page = () => encodePage(store, identity.podId, req)
      let { answer: plain, memories } = waiters ? waiters.shared(key, page) : page()
      let servedFrom = started
      if (memories.length === 0 && req.wait > 0 && waiters) {
        // Long-poll: nothing new yet, so hold until a change this caller may receive commits.
        // The page above and the registration below are one synchronous step: no commit slips between.
        // Past the peer's cap its oldest held request is answered with its (empty) page now.
        const outcome = await waiters.wait(req.scope, req.wait * 1000, { signal: raw.signal, holder: auth.callerId })
        // The relationship may have ended while we held the request: serve nothing then. A wake
        // answers its requests in batches, each in one turn: peers.toml is looked at once per batch.
        const still = peers.trustedInBatch(auth.callerId)
        if (!still || still.key !== trusted.key) throw new AuthError('unauthorized', UNAUTHORIZED)
        if (outcome === 'changed') ({ answer: plain, memories } = waiters.shared(key, page))
        servedFrom = performance.now() // the hold is not serving time
      }
      // Its nonce on disk before the answer goes out (with every other one waiting): a replay after a restart is refused.
      nonces.flush()
      const sealing = sealSyncResponseFast({ pairKey, keys, nonce: auth.nonce, plain })
      const { body: answer, signature } = sealing instanceof Promise ? await sealing : sealing
      deps.onServed?.(auth.callerId, memories.length, performance.now() - servedFrom, memories, req.scope)
      return { body: answer as Uint8Array<ArrayBuffer>, headers: { 'content-type': SEALED_CONTENT_TYPE, [SIGNATURE_HEADER]: signature } }
    } catch (err) {
      // A refusal goes out too: its nonce first, as for an answer.
      nonces.flush()
      throw err
    }
  }
}

/**
 * Largest page we send. A puller reads at most 64 MiB per answer (contract Part 1b) and would
 * fail on a bigger page forever, since the next try asks for the same one: so a page over this
 * many bytes (big memories, or escaping-heavy content) is asked of the feed again with half the
 * limit, down to one entry. Half the puller's cap leaves room for any implementation's slack
 * (and for the seal's 28 bytes).
 */
export const MAX_PAGE_BYTES = SYNC_RESPONSE_MAX_BYTES / 2

/** The page's plaintext bytes, before sealing: at most `maxBytes` unless a single entry is bigger. */
export function encodePage(
  store: Pick<Store, 'changesSince'>,
  podId: string,
  req: { since: string | null; scope: string[]; limit: number },
  maxBytes = MAX_PAGE_BYTES,
): { answer: Uint8Array; memories: ChangePage['memories'] } {
  for (let limit = req.limit; ; limit = Math.max(1, Math.floor(limit / 2))) {
    const page = store.changesSince(req.since, req.scope, limit)
    const answer = encodeSyncResponse({ pod_id: podId, cursor: page.cursor, more: page.more, memories: page.memories })
    if (limit === 1 || answer.byteLength <= maxBytes) return { answer, memories: page.memories }
  }
}

/** `application/vnd.mzm.sealed`, parameters and case aside (the exact type, as our pullers send it, without a copy). */
function isSealed(contentType: string | null): boolean {
  if (contentType === SEALED_CONTENT_TYPE) return true
  return (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase() === SEALED_CONTENT_TYPE
}

function sealedRequired(): PodError {
  return new PodError(
    'sealed_required',
    `sync bodies must be sealed (Content-Type: ${SEALED_CONTENT_TYPE}, AES-256-GCM under the pair's req_key); upgrade the pulling pod`,
  )
}

function tooLarge(): TooLarge {
  return new TooLarge(`sync request is over ${SYNC_REQUEST_MAX_BYTES} bytes; send since, scope, limit and wait only`)
}

/**
 * The error to throw for a request refused before its body was read; the body is released
 * unread. `body` is touched only here: creating the stream is work a served request never needs.
 */
function refuse(req: Request, err: unknown): unknown {
  cancelQuietly(req.body)
  return err
}
