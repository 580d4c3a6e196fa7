/**
 * The rendezvous HTTP app: pods register where they can be reached, peers that know a pod's
 * public key look it up. It never sees memory content; the worst a lying rendezvous can do is
 * make a peer unreachable, because pods verify pair-key signatures end to end.
 *
 *   GET  /healthz                       → {ok, service: "rendezvous", version}
 *   GET  /api/rendezvous                → {key, version}: our X25519 public key, for the proof
 *   POST /api/peers/register  (Bearer)  {peer_id, url, key, ts, proof} → {peer_id, url, expires_at}
 *   DELETE /api/peers/register/:id (Bearer) {key, ts, proof over "release"} → {peer_id, released}
 *   GET  /api/peers/lookup/:id          key in Mzm-Peer-Key (preferred: stays out of access logs)
 *                                       or ?key= → {peer_id, url, expires_at} | 404 not_found
 *
 * A token only authorises registering at all; the proof (contract Part 1b, src/identity/
 * rendezvous-proof.ts) shows the caller holds the private half of `key`, so only that key's
 * holder can bind or move its id. We store hex(SHA-256(key)), never the key. A registration's `ts`
 * must be newer than the last accepted for its id, whatever the token (409 `stale`): a captured
 * one cannot be replayed to move the id back. The binding outlives the URL's 300 s: it ends when
 * its key's holder releases it, or after 30 days without a heartbeat.
 *
 * Strangers hold little at the edge, as at a pod (src/http/edge-guard.ts): a request without a
 * valid token closes its connection after the answer, at most 64 such requests per address are in
 * flight, and a body must arrive within 10 s of its headers (408).
 *
 * Errors are JSON {error, message}. Failed registrations and failed lookups are each rate
 * limited per source address; registrations (a new id or a new URL) also per token (10/s), and each
 * token holds at most 1,000 ids (429 rate_limited / too_many_ids). A heartbeat of an unchanged
 * binding is not charged to its token (1,000 ids beating once a minute is 17/s); it is written
 * at most once per 10 s per id.
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { createMiddleware } from 'hono/factory'
import { validator } from 'hono/validator'
import * as v from 'valibot'
import type { Clock } from '../lib/clock'
import { deriveRendezvousProofKey, RENDEZVOUS_MAX_SKEW_S, verifyRendezvousProof, type PublicKey, type RendezvousProofKey, shortId } from '../identity'
import { readBodyFirst } from '../http/admin-body'
import { authenticated, edgeGuard } from '../http/edge-guard'
import { createErrorHandler, notFound } from '../http/errors'
import { jsonBody } from '../http/validate'
import { AuthError, BadInput, PodError } from '../lib/errors'
import type { Logger } from '../lib/log'
import { VERSION } from '../lib/version'
import { HEARTBEAT_MIN_INTERVAL_MS, MAX_BODY_BYTES, MAX_REGISTRATIONS, PROOF_KEY_CACHE_MAX, REGISTRATIONS_PER_SECOND_PER_TOKEN } from './constants'
import { createRateLimiter, sourceKey, type RateLimiter } from './rate-limiter'
import { PeerIdSchema, PublicKeySchema, RegisterSchema, ReleaseSchema } from './schemas'
import { HEALTHZ_ROUTE, PEER_KEY_HEADER, RELEASE_PROOF_SUBJECT, RENDEZVOUS_INFO_ROUTE, RENDEZVOUS_LOOKUP_ROUTE, RENDEZVOUS_REGISTER_ROUTE } from '../protocol'
import { hexEqual, sha256Hex, stale, type RendezvousStore } from './store'
import type { ConnInfo } from '../runtime'

export interface RendezvousAppDeps {
  db: RendezvousStore
  /** Our X25519 key pair (src/identity loadOrCreateX25519KeyPair); the private half never leaves it. */
  key: { publicKey: PublicKey; privateKey: CryptoKey }
  clock: Clock
  log: Logger
  /**
   * Forwarded-for headers are never trusted: anyone can send them, and trusting them would let a
   * client pick its own rate-limit bucket. Behind a proxy every request counts against the proxy.
   */
  trustProxy?: false
  /** The client's address; default: the runtime's connection info, passed by server.ts as c.env. */
  getIp?: (c: Context) => string
  version?: string
  /** Failures per source per minute for each of register and lookup (default FAILURES_PER_MINUTE). */
  failuresPerMinute?: number
  /** Registrations per token per second (default REGISTRATIONS_PER_SECOND_PER_TOKEN). */
  registrationsPerSecond?: number
  /** Told when an address reaches the edge's cap of requests in flight before a token (server.ts logs it). */
  onEdgeCap?(address: string): void
}

const NOT_FOUND_MESSAGE = 'no live registration for this peer id and key'

export function defaultGetIp(c: Context): string {
  return (c.env as ConnInfo | undefined)?.remoteAddress ?? 'unknown'
}

/**
 * @example
 *   const app = createRendezvousApp({ db, clock: systemClock, log })
 *   serve({ port: 8780, fetch: (req, conn) => app.fetch(req, conn), onError })
 */
export function createRendezvousApp(deps: RendezvousAppDeps) {
  const { db, log } = deps
  const getIp = deps.getIp ?? defaultGetIp
  const version = deps.version ?? VERSION
  const limiterOpts = { clock: deps.clock, capacity: deps.failuresPerMinute }
  const registerFailures = createRateLimiter(limiterOpts)
  const lookupFailures = createRateLimiter(limiterOpts)
  const perSecond = deps.registrationsPerSecond ?? REGISTRATIONS_PER_SECOND_PER_TOKEN
  // Tokens are few (the operator issues them), so the default key bound never bites.
  const tokenRate = createRateLimiter({ clock: deps.clock, capacity: perSecond, windowMs: 1000 })
  const heartbeatWrites = createRateLimiter({ clock: deps.clock, capacity: 1, windowMs: HEARTBEAT_MIN_INTERVAL_MS, maxKeys: MAX_REGISTRATIONS })
  const proofKey = createProofKeyCache(deps.key)

  /** The Bearer token, before the body is read: an unknown caller costs us no JSON parse. */
  const registrationToken = createMiddleware<{ Variables: { tokenId: string } }>(async (c, next) => {
    const tokenId = db.authenticate(bearer(c))
    if (!tokenId) throw new AuthError('unauthorized', 'token unknown or revoked; ask the rendezvous operator for a token')
    authenticated(c)
    c.set('tokenId', tokenId)
    await next()
  })

  /** A token holder's body, read whole within the edge's deadline (10 s from the headers: 408 after). */
  const tokenHolderBody = readBodyFirst(MAX_BODY_BYTES, (max) => `body is over ${max} bytes`)
  const cappedBody = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new PodError('too_large', `body is over ${MAX_BODY_BYTES} bytes`)
    },
  })

  // One chain, so the app's type carries every route (RendezvousAppType). The edge guard comes
  // first, as in the pod: 64 requests in flight before a token per address, and a connection
  // whose request did not present a token closes after its answer.
  const app = new Hono()
    .use(edgeGuard({ onCapReached: deps.onEdgeCap }))
    .get(HEALTHZ_ROUTE, (c) => c.json({ ok: true, service: 'rendezvous', version }))
    .get(RENDEZVOUS_INFO_ROUTE, (c) => c.json({ key: deps.key.publicKey, version }))
    .post(
      RENDEZVOUS_REGISTER_ROUTE,
      limitFailures('register', registerFailures, getIp, log),
      cappedBody,
      registrationToken,
      tokenHolderBody,
      jsonBody(RegisterSchema, { parse: parseRegistration }),
      async function register(c) {
        const tokenId = c.get('tokenId')
        const body = c.req.valid('json')
        // Charged before the proof is checked: an X25519 per request is the costly part. A heartbeat
        // that only refreshes this token's unchanged binding is not charged to the token (its K is
        // cached, so its proof costs one HMAC); its writes are limited per id below instead.
        const bound = db.binding(body.peer_id)
        const heartbeat = bound !== null && bound.token_id === tokenId && bound.url === body.url && hexEqual(bound.key_hash, sha256Hex(body.key))
        if (!heartbeat) {
          const waitMs = tokenRate.retryAfterMs(tokenId)
          if (waitMs > 0) {
            c.header('retry-after', String(Math.ceil(waitMs / 1000)))
            return c.json(
              { error: 'rate_limited', message: `this token sent over ${perSecond} registrations per second; slow down (pods heartbeat once a minute)` },
              429,
            )
          }
          if (tokenRate.spend(tokenId))
            log.warn({ op: 'register', err: 'rate_limited', token_id: tokenId, msg: `token reached ${perSecond} registrations per second` })
        }
        const k = await proofKey(body.peer_id, body.key as PublicKey)
        if (!verifyRendezvousProof(k, body.peer_id, body.url, body.ts, body.proof)) {
          throw new AuthError(
            'bad_proof',
            'proof does not verify for this peer_id, url, ts and key: sign with the private half of key and the rendezvous key from GET /api/rendezvous (it may have changed)',
          )
        }
        checkSkew(deps.clock, body.ts)
        // Replays (under this token or any other) and anything older than what was accepted. The
        // proof verified: telling the key's holder the last ts lets a pod restarted within the
        // same second sign after it.
        if (bound && hexEqual(bound.key_hash, sha256Hex(body.key)) && body.ts <= bound.last_ts) {
          return c.json({ error: 'stale', message: stale(body.peer_id).message, last_ts: bound.last_ts }, 409)
        }
        // A second heartbeat within HEARTBEAT_MIN_INTERVAL_MS (a quick restart, a retry) is answered
        // from the binding as it is: nothing to refresh, and the table takes at most one write per id.
        if (heartbeat && heartbeatWrites.retryAfterMs(body.peer_id) > 0) {
          return c.json({ peer_id: body.peer_id, url: bound.url, expires_at: new Date(bound.expires_at).toISOString() }, 200)
        }
        if (heartbeat) heartbeatWrites.spend(body.peer_id)
        const reg = db.register({ peer_id: body.peer_id, url: body.url, key_hash: sha256Hex(body.key), token_id: tokenId, ts: body.ts })
        const fields = { op: 'register', peer: shortId(reg.peer_id), token_id: tokenId }
        if (reg.created) log.info({ ...fields, msg: 'new registration' })
        else log.debug(fields)
        return c.json({ peer_id: reg.peer_id, url: reg.url, expires_at: reg.expires_at }, 200)
      },
    )
    .delete(
      `${RENDEZVOUS_REGISTER_ROUTE}/:id`,
      limitFailures('release', registerFailures, getIp, log),
      cappedBody,
      registrationToken,
      tokenHolderBody,
      lookupId,
      jsonBody(ReleaseSchema),
      async function release(c) {
        const { id } = c.req.valid('param')
        const body = c.req.valid('json')
        const k = await proofKey(id, body.key as PublicKey)
        if (!verifyRendezvousProof(k, id, RELEASE_PROOF_SUBJECT, body.ts, body.proof)) {
          throw new AuthError('bad_proof', `proof does not verify: sign "release" in place of the URL, with this peer id, ts and key`)
        }
        checkSkew(deps.clock, body.ts)
        db.release(id, sha256Hex(body.key), body.ts)
        log.info({ op: 'release', peer: shortId(id), token_id: c.get('tokenId'), msg: 'binding released by its key holder' })
        return c.json({ peer_id: id, released: true }, 200)
      },
    )
    .get(`${RENDEZVOUS_LOOKUP_ROUTE}/:id`, limitFailures('lookup', lookupFailures, getIp, log), lookupId, lookupKey, function lookup(c) {
      const { id } = c.req.valid('param')
      const key = c.req.valid('header')[PEER_KEY_HEADER]
      c.header('cache-control', 'no-store')
      const reg = db.lookup(id, key)
      if (!reg) return c.json({ error: 'not_found', message: NOT_FOUND_MESSAGE }, 404)
      return c.json(reg, 200)
    })

  app.notFound(notFound)
  app.onError(createErrorHandler(log, 'rendezvous'))
  return app
}

/** The rendezvous's routes with their inputs and answers (test/rendezvous/app-type.test.ts holds it to them). */
export type RendezvousAppType = ReturnType<typeof createRendezvousApp>

/** `:id` of a lookup, a peer id. */
const lookupId = validator('param', (value: Record<string, string>) => ({ id: parseField(PeerIdSchema, value.id, 'peer id in the path') }))

/**
 * The looked-up pod's public key: the Mzm-Peer-Key header, else `?key=` (older pods; untyped, so
 * a typed client sends the header). The header wins: a key in the query string ends up in
 * proxies' access logs.
 */
const lookupKey = validator('header', (_value, c) => {
  const raw = c.req.header(PEER_KEY_HEADER) ?? c.req.query('key')
  if (raw === undefined) throw new BadInput("missing key: send the peer's public key in the Mzm-Peer-Key header (or ?key=)")
  return { [PEER_KEY_HEADER]: parseField(PublicKeySchema, raw, 'key') }
})

/**
 * K per (peer id, pod key), memoised: a pod heartbeats every minute with the same pair, and the
 * X25519 + HKDF behind K is most of what a registration costs. Bounded; least recently used first out.
 */
function createProofKeyCache(key: RendezvousAppDeps['key'], max = PROOF_KEY_CACHE_MAX) {
  const cache = new Map<string, RendezvousProofKey>()
  return async function proofKey(peerId: string, podKey: PublicKey): Promise<RendezvousProofKey> {
    const id = `${peerId}|${podKey}`
    let k = cache.get(id)
    if (k) cache.delete(id)
    else k = await deriveRendezvousProofKey(key.privateKey, podKey, peerId, key.publicKey)
    cache.set(id, k) // re-inserted: Map order is least recently used first
    if (cache.size > max) cache.delete(cache.keys().next().value!)
    return k
  }
}

/** Refuses a source whose failure bucket is empty, and charges it for every 4xx it gets. */
function limitFailures(op: string, limiter: RateLimiter, getIp: (c: Context) => string, log: Logger): MiddlewareHandler {
  return async function failureLimit(c, next) {
    const source = sourceKey(getIp(c))
    const waitMs = limiter.retryAfterMs(source)
    if (waitMs > 0) {
      c.header('retry-after', String(Math.ceil(waitMs / 1000)))
      return c.json({ error: 'rate_limited', message: `too many failed ${op} requests from this address; retry later` }, 429)
    }
    await next()
    if (c.res.status >= 400 && c.res.status < 500 && limiter.spend(source)) {
      log.warn({ op, err: 'rate_limited', msg: `source ${source} reached its failure limit` })
    }
  }
}

/** Checked after a proof (as for peer requests): only a key holder learns about our clock. */
function checkSkew(clock: Clock, ts: number): void {
  const skewS = Math.abs(Math.floor(clock.now() / 1000) - ts)
  if (skewS > RENDEZVOUS_MAX_SKEW_S) {
    throw new AuthError('clock_skew', `ts is ${skewS} s away from the rendezvous clock (at most ${RENDEZVOUS_MAX_SKEW_S}); set this host's clock (NTP)`)
  }
}

function bearer(c: Context): string {
  const header = c.req.header('authorization')
  if (!header) throw new AuthError('unauthorized', 'missing Authorization: Bearer <rendezvous token>')
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header)
  if (!m) throw new AuthError('unauthorized', 'Authorization must be "Bearer <rendezvous token>"')
  return m[1]!
}

/** The register body, with messages that say what to send (valibot's strict_object wording is cryptic). */
function parseRegistration(raw: unknown): v.InferOutput<typeof RegisterSchema> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new BadInput('body must be a JSON object {peer_id, url, key, ts, proof}')
  const r = v.safeParse(RegisterSchema, raw)
  if (r.success) return r.output
  const issues = r.issues.map((i) => {
    const path = v.getDotPath(i) ?? ''
    if (i.type === 'strict_object' && i.expected === 'never') return `${path}: unknown field (allowed: peer_id, url, key, ts, proof)`
    if (i.type === 'strict_object' && i.input === undefined) return `${path}: is required`
    return path ? `${path}: ${i.message}` : i.message
  })
  throw new BadInput(`invalid body: ${issues.join('; ')}`, issues)
}

function parseField<S extends v.GenericSchema<unknown, string>>(schema: S, value: unknown, what: string): string {
  const r = v.safeParse(schema, value)
  if (!r.success) throw new BadInput(`${what} ${r.issues[0]?.message ?? 'is invalid'}`)
  return r.output as string
}
