/**
 * `mazemaker peer test <id>`: walks what a pull needs, one step at a time, and says for the
 * first step that fails what to fix. resolve (the peer's URLs, rendezvous lookups included) →
 * for each URL: headers (whether the peer's secret headers go to this URL, and if not why) →
 * connect (GET /healthz within the connect timeout, with those headers) → tls → identity (the answer names this peer's id) → then, at the first URL that
 * passes: a signed round trip (/peer/sync, one entry, nothing stored) → clock (the 401
 * `clock_skew` code, else the peer's Date header). Nothing here changes state.
 */
import { PodError } from '../lib/errors'
import { readBodyText } from '../lib/read-body'
import { HEALTHZ_ROUTE, MAX_CLOCK_SKEW_S, type PairKey, type PodId, type PublicKey } from '../protocol'
import { peerUrls, RENDEZVOUS_SCHEME, type PeerRecord, shortId } from '../identity'
import type { PeerTestReport, PeerTestStep } from '../api/types'
import { CONNECT_TIMEOUT_MS } from './constants'
import { pullPage } from './peer-client'
import { errnoName } from '../runtime'

export type { PeerTestReport, PeerTestStep } from '../api/types'

/** Skew we mention without failing: signatures still verify, but the margin is shrinking. */
const CLOCK_WARN_S = 60
const HEALTHZ_MAX_BYTES = 4096

export interface PeerTestDeps {
  selfId: PodId
  peer: PeerRecord
  resolve(peer: PeerRecord): Promise<string[]>
  pairKey(peerId: PodId, key: PublicKey): Promise<PairKey>
  /** The secret headers a request to the peer at `url` carries, or why they are withheld there. */
  headers(peerId: PodId, url: string): { headers: Record<string, string>; withheld: string | null }
  now(): number
  fetch?: typeof fetch
  connectTimeoutMs?: number
}

const TLS_CODE_RE = /CERT|SSL|TLS|SELF_SIGNED|VERIFY|ALTNAME|HANDSHAKE/i

function codeOf(err: unknown): string {
  const errno = errnoName(err)
  if (errno) return errno
  const e = err as { code?: unknown; name?: unknown; cause?: { code?: unknown } }
  if (typeof e?.code === 'string') return e.code
  if (typeof e?.cause?.code === 'string') return e.cause.code
  return typeof e?.name === 'string' ? e.name : 'error'
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

export async function testPeer(deps: PeerTestDeps): Promise<PeerTestReport> {
  const { peer } = deps
  const steps: PeerTestStep[] = []
  const done = (ok: boolean): PeerTestReport => ({ peer: peer.id, ok, steps })
  const connectMs = deps.connectTimeoutMs ?? CONNECT_TIMEOUT_MS

  // resolve
  if (!peer.key) {
    steps.push({
      step: 'resolve',
      ok: false,
      detail: 'no key file for this peer (revoked)',
      fix: 'pair again: paste its handshake URL with `mazemaker peer add … --replace`',
    })
    return done(false)
  }
  const configured = peerUrls(peer)
  const urls = await deps.resolve(peer).catch(() => [] as string[])
  if (urls.length === 0) {
    const viaRendezvous = configured.some((u) => u.startsWith(RENDEZVOUS_SCHEME))
    steps.push({
      step: 'resolve',
      ok: false,
      detail: configured.length === 0 ? 'no URL for this peer' : viaRendezvous ? 'the rendezvous has no current registration for this peer' : 'no usable URL',
      fix: viaRendezvous
        ? 'the peer must be running with the same [rendezvous] (its `mazemaker doctor` says whether it is registered); or give a direct URL with `mazemaker peer set <id> --url …`'
        : 'ask the other operator to `mazemaker advertise add <url>` and send their handshake URL again, or set one with `mazemaker peer set <id> --url …`',
    })
    return done(false)
  }
  steps.push({ step: 'resolve', ok: true, detail: `${urls.length} URL(s) to try: ${urls.join(', ')}` })

  for (const url of urls) {
    let headers: Record<string, string>
    try {
      const h = deps.headers(peer.id, url)
      headers = h.headers
      const step = headersStep(peer.id, url, h)
      if (step) steps.push(step)
    } catch (err) {
      steps.push({
        step: 'headers',
        url,
        ok: false,
        detail: messageOf(err),
        fix: 'fix the header file, or set the headers again with `mazemaker peer headers set`',
      })
      return done(false)
    }
    const reached = await probe(url, peer.id as PodId, headers, connectMs, deps.fetch)
    steps.push(...reached.steps)
    if (!reached.ok) continue

    // signed round trip
    let signedOk = false
    let skewFromCode = false
    try {
      const page = await pullPage({
        baseUrl: url,
        pairKey: await deps.pairKey(peer.id, peer.key),
        selfId: deps.selfId,
        peerId: peer.id,
        since: null,
        scope: peer.scope,
        limit: 1,
        nowMs: deps.now(),
        fetch: deps.fetch,
        headers,
        connectTimeoutMs: connectMs,
      })
      signedOk = true
      steps.push({
        step: 'signed',
        url,
        ok: true,
        detail: `signed request accepted, answer signed with the pair key (${page.memories.length ? 'entries waiting' : 'nothing new'})`,
      })
    } catch (err) {
      const code = err instanceof PodError ? err.code : codeOf(err)
      skewFromCode = code === 'clock_skew'
      steps.push({ step: 'signed', url, ok: skewFromCode, detail: `${code}: ${messageOf(err)}`, fix: skewFromCode ? undefined : signedFix(code) })
      if (!skewFromCode) return done(false)
    }

    // clock
    if (skewFromCode) {
      steps.push({
        step: 'clock',
        url,
        ok: false,
        detail: `the peer refused our timestamp: clocks differ by more than ${MAX_CLOCK_SKEW_S} s`,
        fix: 'sync the clocks (NTP: `timedatectl set-ntp true`, or the OS time settings) on both machines',
      })
      return done(false)
    }
    if (reached.skewS === null) steps.push({ step: 'clock', url, ok: true, detail: 'within the 300 s window (the peer sent no Date header to measure it)' })
    else {
      const abs = Math.abs(reached.skewS)
      const side = reached.skewS > 0 ? 'ahead of' : 'behind'
      steps.push({
        step: 'clock',
        url,
        ok: abs <= MAX_CLOCK_SKEW_S,
        detail:
          abs < 2
            ? 'clocks agree (within 2 s)'
            : `the peer's clock is about ${abs} s ${side} ours${abs > CLOCK_WARN_S ? ` (the limit is ${MAX_CLOCK_SKEW_S} s)` : ''}`,
        fix: abs > CLOCK_WARN_S ? 'sync the clocks (NTP) on both machines' : undefined,
      })
    }
    return done(signedOk && steps.at(-1)!.ok)
  }
  return done(false)
}

interface Probe {
  ok: boolean
  steps: PeerTestStep[]
  /** Peer clock minus ours, seconds, from its Date header (null when absent). */
  skewS: number | null
}

/** Which secret headers go to `url` (names only), or why none do; nothing when the peer has none. */
function headersStep(peerId: string, url: string, h: { headers: Record<string, string>; withheld: string | null }): PeerTestStep | null {
  const names = Object.keys(h.headers)
  if (names.length > 0) return { step: 'headers', url, ok: true, detail: `sent: ${names.join(', ')}` }
  if (h.withheld === null) return null
  return {
    step: 'headers',
    url,
    ok: true,
    detail: `withheld: ${h.withheld}`,
    fix: `if this URL is the peer's own (its Access hostname, say), bind the headers to it: \`mazemaker peer headers for ${shortId(peerId)} <https origin>\``,
  }
}

/** connect → tls → identity at one URL, via GET /healthz. */
async function probe(url: string, peerId: PodId, headers: Record<string, string>, connectMs: number, fetchImpl?: typeof fetch): Promise<Probe> {
  const https = url.startsWith('https:')
  const target = url.replace(/\/+$/, '') + HEALTHZ_ROUTE
  const host = new URL(url).host
  const started = Date.now()
  let res: Response
  try {
    res = await (fetchImpl ?? fetch)(target, { headers, redirect: 'error', signal: AbortSignal.timeout(connectMs) })
  } catch (err) {
    const code = codeOf(err)
    if (https && TLS_CODE_RE.test(code)) {
      return {
        ok: false,
        skewS: null,
        steps: [
          { step: 'connect', url, ok: true, detail: `${host} accepted the connection` },
          {
            step: 'tls',
            url,
            ok: false,
            detail: `${code}: ${messageOf(err)}`,
            fix: 'the certificate is not trusted for this name: use a certificate from a public CA (tailscale serve and Cloudflare give you one), or trust your CA on this machine (NODE_EXTRA_CA_CERTS)',
          },
        ],
      }
    }
    const timedOut = code === 'TimeoutError' || code === 'AbortError'
    return {
      ok: false,
      skewS: null,
      steps: [
        {
          step: 'connect',
          url,
          ok: false,
          detail: timedOut ? `no answer from ${host} within ${connectMs} ms` : `${code}: ${messageOf(err)}`,
          fix: connectFix(code, timedOut, host),
        },
      ],
    }
  }
  const steps: PeerTestStep[] = [{ step: 'connect', url, ok: true, detail: `${host} answered in ${Date.now() - started} ms` }]
  steps.push(
    https
      ? { step: 'tls', url, ok: true, detail: 'certificate verified' }
      : { step: 'tls', url, ok: true, detail: 'plain http (fine on a tailnet or LAN; sync bodies are sealed end to end either way)' },
  )
  const dateHeader = res.headers.get('date')
  const peerMs = dateHeader ? Date.parse(dateHeader) : NaN
  const skewS = Number.isNaN(peerMs) ? null : Math.round((peerMs - Date.now()) / 1000)
  let body: { pod_id?: unknown } = {}
  try {
    body = JSON.parse(await readBodyText(res, HEALTHZ_MAX_BYTES, { what: '/healthz answer' })) as { pod_id?: unknown }
  } catch {
    body = {}
  }
  if (res.status !== 200 || typeof body.pod_id !== 'string') {
    steps.push({
      step: 'identity',
      url,
      ok: false,
      detail: `GET ${HEALTHZ_ROUTE} → ${res.status}${typeof body.pod_id === 'string' ? '' : ', not a pod'}`,
      fix: httpFix(res.status),
    })
    return { ok: false, steps, skewS }
  }
  if (body.pod_id !== peerId) {
    steps.push({
      step: 'identity',
      url,
      ok: false,
      detail: `this URL reaches pod ${String(body.pod_id)
        .slice(0, 8)
        .replace(/[^0-9a-f]/g, '?')}, not ${shortId(peerId)}`,
      fix: 'the URL points at another pod: ask the other operator for their current URL or handshake URL',
    })
    return { ok: false, steps, skewS }
  }
  steps.push({ step: 'identity', url, ok: true, detail: `answers as ${shortId(peerId)}` })
  return { ok: true, steps, skewS }
}

function connectFix(code: string, timedOut: boolean, host: string): string {
  if (timedOut) return `packets to ${host} go unanswered: is the machine up and on this network (tailnet up, same LAN), and does a firewall drop the port?`
  if (/refused/i.test(code))
    return `nothing listens at ${host}: is the pod running there, and does its pod.toml listen on an address this machine reaches (not 127.0.0.1)?`
  if (/NOTFOUND|DNS|resolve/i.test(code)) return `${host} does not resolve here: check the name (MagicDNS on, hosts file) or use its address`
  return `check that ${host} is reachable from this machine`
}

function httpFix(status: number): string {
  if (status === 401 || status === 403)
    return 'a proxy in front of the peer refused us: set its headers (e.g. Cloudflare Access service token) with `mazemaker peer headers set <id> CF-Access-Client-Id …`'
  if (status === 404) return 'no pod at this path: check the URL, including the path prefix the proxy mounts the pod under'
  if (status === 502 || status === 503 || status === 504)
    return 'a proxy answered but the pod behind it did not: is the pod running, and does the proxy point at its listen address?'
  return 'this URL does not answer like a Mazemaker pod: check it'
}

function signedFix(code: string): string {
  if (code === 'unauthorized')
    return 'the peer does not know this pod (yet): send them your handshake URL (`mazemaker identity`) so they can `mazemaker peer add` it; if they did, the keys differ: pair again'
  if (code === 'replay') return 'retry; if it persists, a proxy is replaying requests'
  if (code === 'bad_signature')
    return 'the answer is not signed by this peer: the URL reaches a different pod or a proxy that alters answers; check the URL, or pair again if the peer changed its key'
  if (code === 'timeout')
    return 'the peer accepted the connection but did not answer the signed request in time: is it overloaded, or does a proxy hold the request?'
  if (code.startsWith('http_')) return httpFix(Number(code.slice(5)))
  if (code === 'protocol_unsupported')
    return 'the two pods share no protocol version: upgrade the side the detail names (both, to the same release, is simplest)'
  if (code === 'bad_seal' || code === 'sealed_required') return 'the peer speaks another version of the protocol: update both pods'
  return 'see the detail; `mazemaker doctor` on both sides may say more'
}
