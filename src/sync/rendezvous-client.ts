/**
 * The pod's side of a rendezvous: register where we can be reached (a heartbeat every 60 s, the
 * record expiring 300 s after the last one) and look peers up by id + public key (cached 240 s,
 * falling back to the last URL that resolved). The rendezvous is never trusted for integrity:
 * whatever URL it names must still answer with the pair-key signature, and must pass the same
 * URL rule the rendezvous applies (src/lib/http-url.ts). The token goes only in the register
 * request's Authorization header, never in a log line or an error message.
 *
 * Each registration carries a proof of possession of our private key (contract Part 1b), keyed
 * with the rendezvous's public key: fetched from GET /api/rendezvous, cached, and fetched again
 * when a registration is refused with `bad_proof` (the rendezvous got a new key).
 */
import * as v from 'valibot'
import { signRendezvousProof, type PublicKey, type RendezvousProofKey, shortId } from '../identity'
import type { Clock } from '../lib/clock'
import { httpUrlProblem } from '../lib/http-url'
import { BadInput, PeerError, PodError } from '../lib/errors'
import type { Logger } from '../lib/log'
import { BodyTooLarge, readBodyText } from '../lib/read-body'
import {
  JSON_CONTENT_TYPE,
  LookupAnswerSchema,
  PEER_KEY_HEADER,
  RENDEZVOUS_INFO_ROUTE,
  RENDEZVOUS_LOOKUP_ROUTE,
  RENDEZVOUS_REGISTER_ROUTE,
  RendezvousKeyAnswerSchema,
  type RegisterBody,
} from '../protocol'
import { RENDEZVOUS_CACHE_MS, RENDEZVOUS_HEARTBEAT_MS, RENDEZVOUS_MAX_RESPONSE_BYTES, RENDEZVOUS_TIMEOUT_MS } from './constants'
import { errnoName } from '../runtime'

export type { RegisterBody }

export interface RendezvousClient {
  /** GET /api/rendezvous: the rendezvous's X25519 public key. */
  rendezvousKey(signal?: AbortSignal): Promise<PublicKey>
  /** Registers or refreshes us. Throws PeerError `request_failed`, RendezvousRefused (`http_<status>`). */
  register(body: RegisterBody, signal?: AbortSignal): Promise<void>
  /** The URL registered for `peerId` under `key`; null when the rendezvous answers 404. */
  lookup(peerId: string, key: string, signal?: AbortSignal): Promise<string | null>
}

/** A non-2xx answer: code `http_<status>`; `remoteCode` is the rendezvous's own `error` field. */
export class RendezvousRefused extends PeerError {
  constructor(
    readonly status: number,
    readonly remoteCode: string | null,
    message: string,
    /** `last_ts` of a `stale` refusal: the newest ts the rendezvous accepted for us. */
    readonly lastTs: number | null = null,
  ) {
    super(`http_${status}`, message)
  }
}

/** What signing a registration needs of our identity (Identity implements it). */
export interface RendezvousSigner {
  podId: string
  publicKey: string
  rendezvousProofKey(rendezvousKey: PublicKey): Promise<RendezvousProofKey>
}

/**
 * The register body for `url` at time `nowMs`, proven with K for the rendezvous key `rendezvousKey`.
 * `minTs`: the rendezvous refuses a ts no newer than the last it accepted for us (409 `stale`), so
 * two registrations within one second take successive seconds.
 */
export async function signedRegistration(signer: RendezvousSigner, rendezvousKey: PublicKey, url: string, nowMs: number, minTs = 0): Promise<RegisterBody> {
  const ts = Math.max(Math.floor(nowMs / 1000), minTs)
  const k = await signer.rendezvousProofKey(rendezvousKey)
  return { peer_id: signer.podId, url, key: signer.publicKey, ts, proof: signRendezvousProof(k, signer.podId, url, ts) }
}

export function createRendezvousClient(opts: { url: string; token: string; fetch?: typeof fetch; timeoutMs?: number }): RendezvousClient {
  const base = opts.url.replace(/\/+$/, '') // the service may be mounted under a path prefix
  const doFetch = opts.fetch ?? fetch
  const timeoutMs = opts.timeoutMs ?? RENDEZVOUS_TIMEOUT_MS

  async function send(what: string, url: string, init: RequestInit, signal?: AbortSignal): Promise<{ status: number; text: string }> {
    const timeout = AbortSignal.timeout(timeoutMs)
    try {
      const res = await doFetch(url, {
        ...init,
        redirect: 'error', // never carry the token to a host the operator did not name
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      })
      return { status: res.status, text: await readBodyText(res, RENDEZVOUS_MAX_RESPONSE_BYTES, { what: 'rendezvous answer' }) }
    } catch (cause) {
      const detail = timeout.aborted ? `timed out after ${timeoutMs} ms` : cause instanceof BodyTooLarge ? cause.message : describe(cause)
      throw new PeerError(cause instanceof BodyTooLarge ? 'too_large' : 'request_failed', `${what} ${url}: ${detail}`, { cause })
    }
  }

  async function getJson(what: string, url: string, res: { status: number; text: string }): Promise<unknown> {
    try {
      return JSON.parse(res.text)
    } catch {
      throw new PeerError('bad_response', `${what} ${url}: answer is not JSON`)
    }
  }

  return {
    async rendezvousKey(signal) {
      const url = base + RENDEZVOUS_INFO_ROUTE
      const res = await send('GET', url, {}, signal)
      if (res.status !== 200) throw httpError('GET', url, res)
      const parsed = v.safeParse(RendezvousKeyAnswerSchema, await getJson('GET', url, res))
      if (!parsed.success) throw new PeerError('bad_response', `GET ${url}: answer has no valid rendezvous key; is this a v2 rendezvous?`)
      return parsed.output.key
    },
    async register(body, signal) {
      const url = base + RENDEZVOUS_REGISTER_ROUTE
      const res = await send(
        'POST',
        url,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${opts.token}`, 'content-type': JSON_CONTENT_TYPE },
          body: JSON.stringify(body),
        },
        signal,
      )
      if (res.status !== 200) throw httpError('POST', url, res)
    },
    async lookup(peerId, key, signal) {
      const url = `${base}${RENDEZVOUS_LOOKUP_ROUTE}/${encodeURIComponent(peerId)}`
      const res = await send('GET', url, { headers: { [PEER_KEY_HEADER]: key } }, signal)
      if (res.status === 404) return null
      if (res.status !== 200) throw httpError('GET', url, res)
      const parsed = v.safeParse(LookupAnswerSchema, await getJson('GET', url, res))
      if (!parsed.success || parsed.output.peer_id !== peerId)
        throw new PeerError('bad_response', `GET ${url}: answer is not a registration of ${shortId(peerId)}`)
      return parsed.output.url
    },
  }
}

export interface HeartbeatState {
  /** Our last registration was accepted. */
  registered: boolean
  last_ok_at: string | null
  /** `code: message` of the last failure, null once registered again. */
  last_error: string | null
  advertised_url: string
}

export interface Heartbeat {
  /** Registers at once, then every interval until stop(); idempotent. */
  start(): void
  /** Ends the loop, cutting short the sleep and any request in flight. */
  stop(): Promise<void>
  /** One registration now (what the loop runs each interval); never throws. */
  beat(): Promise<void>
  state(): HeartbeatState
}

/**
 * Keeps our registration alive across outages. Logs once per state change: warn on the first
 * failure (or a different one), info on recovery, debug for repeats.
 */
export function createHeartbeat(opts: {
  client: RendezvousClient
  identity: RendezvousSigner
  advertiseUrl: () => string
  clock: Clock
  log: Logger
  intervalMs?: number
}): Heartbeat {
  const intervalMs = opts.intervalMs ?? RENDEZVOUS_HEARTBEAT_MS
  const log = opts.log
  /** The rendezvous's public key, fetched on the first beat and again after a `bad_proof`. */
  let rendezvousKey: PublicKey | null = null
  const st: HeartbeatState = { registered: false, last_ok_at: null, last_error: null, advertised_url: '' }
  let failing: string | null = null
  let lastLoggedUrl: string | null = null
  let controller: AbortController | null = null
  let loop: Promise<void> | null = null
  /** The ts of our last registration sent: the next one is signed later than it. */
  let lastTs = 0
  const sign = async (key: PublicKey, url: string) => {
    const body = await signedRegistration(opts.identity, key, url, opts.clock.now(), lastTs + 1)
    lastTs = body.ts
    return body
  }

  async function beat(): Promise<void> {
    const signal = controller?.signal
    try {
      st.advertised_url = opts.advertiseUrl()
      // Never hand the rendezvous a URL the pullers would refuse (or be misled by); not quoted: it may hold credentials.
      const problem = httpUrlProblem(st.advertised_url)
      if (problem) throw new BadInput(`our advertised URL ${problem}; fix advertise in pod.toml (mazemaker advertise list)`)
      await register(st.advertised_url, signal)
    } catch (err) {
      if (signal?.aborted) return // stopping: not a failure worth recording
      const code = err instanceof PodError ? err.code : 'request_failed'
      const msg = err instanceof Error ? err.message : String(err)
      st.registered = false
      st.last_error = `${code}: ${msg}`
      const fields = { op: 'rendezvous', err: code, msg }
      if (failing !== code) log.warn(fields)
      else log.debug(fields)
      failing = code
      return
    }
    st.registered = true
    st.last_ok_at = new Date(opts.clock.now()).toISOString()
    st.last_error = null
    if (failing !== null) log.info({ op: 'rendezvous', msg: `registered again as ${st.advertised_url}` })
    else if (lastLoggedUrl !== st.advertised_url) log.info({ op: 'rendezvous', msg: `registered as ${st.advertised_url}` })
    else log.debug({ op: 'rendezvous', msg: 'heartbeat ok' })
    failing = null
    lastLoggedUrl = st.advertised_url
  }

  async function register(url: string, signal?: AbortSignal): Promise<void> {
    const used = (rendezvousKey ??= await opts.client.rendezvousKey(signal))
    try {
      await opts.client.register(await sign(used, url), signal)
    } catch (err) {
      if (err instanceof RendezvousRefused && err.remoteCode === 'stale' && err.lastTs !== null && err.lastTs >= lastTs) {
        // An earlier run of this pod registered within the same second (a quick restart), or the
        // clock went back: sign after what the rendezvous last accepted, once.
        lastTs = err.lastTs
        return await opts.client.register(await sign(used, url), signal)
      }
      if (!(err instanceof RendezvousRefused && err.remoteCode === 'bad_proof')) throw err
      // Our proof is keyed with the rendezvous key: if it changed (a new rendezvous home), fetch it and sign again, once.
      rendezvousKey = null
      const fresh = (rendezvousKey = await opts.client.rendezvousKey(signal))
      if (fresh === used) throw err
      log.info({ op: 'rendezvous', msg: 'the rendezvous key changed; signing with the new one' })
      await opts.client.register(await sign(fresh, url), signal)
    }
  }

  async function run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await beat()
      if (signal.aborted) break
      await opts.clock.sleep(intervalMs, signal)
    }
  }

  return {
    start() {
      if (loop) return
      controller = new AbortController()
      loop = run(controller.signal)
    },
    async stop() {
      controller?.abort()
      await loop
      loop = null
      controller = null
    },
    beat,
    state: () => ({ ...st }),
  }
}

export interface Resolver {
  /** The peer's URL: cached for cacheMs, else looked up; on failure or 404 the last confirmed URL (or null). */
  resolve(peerId: string, key: string): Promise<string | null>
  /**
   * Marks `url` as proven: a pull from it verified under the pair key. Only proven URLs serve as the
   * fallback, so a lying rendezvous cannot leave us stuck on its URL once it goes away.
   */
  confirm(peerId: string, key: string, url: string): void
  /** Why the last lookup of this peer found no URL (null: it found one, or none was made). */
  miss(peerId: string): LookupMiss | null
}

/** A lookup that found nothing: the rendezvous does not know the peer (404), or did not answer. */
export type LookupMiss = { cause: 'not_registered' } | { cause: 'rendezvous_unreachable'; detail: string }

export function createResolver(opts: { client: RendezvousClient; clock: Clock; cacheMs?: number; log?: Logger }): Resolver {
  const cacheMs = opts.cacheMs ?? RENDEZVOUS_CACHE_MS
  const resolved = new Map<string, { key: string; url: string; at: number }>()
  const confirmed = new Map<string, { key: string; url: string }>()
  const inFlight = new Map<string, Promise<string | null>>()
  const misses = new Map<string, LookupMiss>()

  async function lookup(peerId: string, key: string): Promise<string | null> {
    const last = confirmed.get(peerId)
    const fallback = last && last.key === key ? last.url : null // a URL proven under another key is not this peer's
    try {
      const url = await opts.client.lookup(peerId, key)
      if (url) {
        resolved.set(peerId, { key, url, at: opts.clock.now() })
        misses.delete(peerId)
        return url
      }
      misses.set(peerId, { cause: 'not_registered' })
      opts.log?.debug({ op: 'resolve', peer: shortId(peerId), err: 'not_found', msg: fallback ? 'using the last resolved URL' : 'not registered' })
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err)
      misses.set(peerId, { cause: 'rendezvous_unreachable', detail })
      opts.log?.debug({ op: 'resolve', peer: shortId(peerId), err: err instanceof PodError ? err.code : 'request_failed', msg: detail })
    }
    return fallback
  }

  return {
    resolve(peerId, key) {
      const hit = resolved.get(peerId)
      if (hit && hit.key === key && opts.clock.now() - hit.at < cacheMs) return Promise.resolve(hit.url)
      // Concurrent resolves of one peer share a single lookup.
      const k = `${peerId} ${key}`
      let p = inFlight.get(k)
      if (!p) {
        p = lookup(peerId, key).finally(() => inFlight.delete(k))
        inFlight.set(k, p)
      }
      return p
    },
    confirm(peerId, key, url) {
      confirmed.set(peerId, { key, url })
    },
    miss: (peerId) => misses.get(peerId) ?? null,
  }
}

function httpError(method: string, url: string, res: { status: number; text: string }): RendezvousRefused {
  let detail = ''
  let remoteCode: string | null = null
  let lastTs: number | null = null
  try {
    const j = JSON.parse(res.text) as { error?: unknown; message?: unknown; last_ts?: unknown }
    if (Number.isSafeInteger(j.last_ts)) lastTs = j.last_ts as number
    if (typeof j.error === 'string') {
      detail = j.error
      remoteCode = j.error
    }
    if (typeof j.message === 'string') detail += `: ${j.message}`
  } catch {
    // not JSON: the status says enough
  }
  // The rendezvous is not trusted: keep what it says short and printable before it reaches logs.
  detail = detail.replace(/[^\x20-\x7e]/g, '?').slice(0, 200)
  return new RendezvousRefused(res.status, remoteCode, `${method} ${url} → ${res.status}${detail ? ` ${detail}` : ''}`, lastTs)
}

/** The errno name when the connection failed (the same on both runtimes), else what the error says. */
function describe(err: unknown): string {
  if (err instanceof Error) return errnoName(err) ?? (err as Error & { code?: string }).code ?? err.message
  return String(err)
}
