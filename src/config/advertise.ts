/**
 * What a pod tells others to reach it at (pod.toml `advertise`): which addresses another
 * machine can reach (loopback cannot), suggestions from the machine's interfaces when the pod
 * listens on a wildcard or a tailnet address, and the check `doctor` runs. Pure functions: the
 * caller passes the interfaces (node:os networkInterfaces) and hostname.
 */
import { BadInput } from '../lib/errors'
import { httpUrlProblem } from '../lib/text-checks'
import { ADVERTISE_MAX_URLS } from './pod-config'

/** One address of one interface, as node:os networkInterfaces() lists it. */
export interface InterfaceAddress {
  address: string
  family: string
  internal: boolean
}

export type Interfaces = Record<string, readonly InterfaceAddress[] | undefined>

export interface Suggestion {
  url: string
  /** tailnet | tailnet-name | lan | public */
  kind: string
  why: string
}

const unbracket = (host: string) => host.replace(/^\[|\]$/g, '').toLowerCase()

function ipv4(host: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host)
  if (!m) return null
  const parts = m.slice(1).map(Number)
  return parts.every((p) => p <= 255) ? parts : null
}

/** 127.0.0.0/8, ::1, localhost (and *.localhost), v4-mapped loopback: only this machine reaches them. */
export function isLoopbackHost(host: string): boolean {
  const h = unbracket(host).replace(/\.$/, '')
  if (h === 'localhost' || h.endsWith('.localhost')) return true
  if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true
  const mapped = /^::ffff:(.+)$/.exec(h)
  const v4 = ipv4(mapped ? mapped[1]! : h)
  return v4 !== null && v4[0] === 127
}

/** 0.0.0.0, :: or empty: listening on every interface. */
export function isWildcardHost(host: string): boolean {
  const h = unbracket(host)
  return h === '' || h === '0.0.0.0' || h === '::'
}

/** 100.64.0.0/10 (Tailscale's CGNAT range) or fd7a:115c:a1e0::/48 (its IPv6 ULA). */
export function isTailnetAddress(host: string): boolean {
  const h = unbracket(host)
  const v4 = ipv4(h)
  if (v4) return v4[0] === 100 && v4[1]! >= 64 && v4[1]! <= 127
  return /^fd7a:115c:a1e0:/.test(h)
}

/** RFC 1918 and IPv6 unique-local (fc00::/7) addresses: a LAN. */
export function isPrivateLanAddress(host: string): boolean {
  const h = unbracket(host)
  const v4 = ipv4(h)
  if (v4) return v4[0] === 10 || (v4[0] === 172 && v4[1]! >= 16 && v4[1]! <= 31) || (v4[0] === 192 && v4[1] === 168)
  return /^f[cd][0-9a-f]{2}:/.test(h) && !isTailnetAddress(h)
}

function isLinkLocal(host: string): boolean {
  const h = unbracket(host)
  const v4 = ipv4(h)
  return v4 ? v4[0] === 169 && v4[1] === 254 : /^fe[89ab][0-9a-f]:/.test(h)
}

function urlFor(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`
}

/** A hostname usable in a URL (MagicDNS short name, LAN name), or null. */
function cleanHostname(name: string): string | null {
  const h = name.trim().toLowerCase()
  return /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(h) && h !== 'localhost' ? h : null
}

/**
 * URLs worth advertising for a pod listening at `listenHost:port`: on a wildcard, every
 * non-internal address (tailnet first, then LAN, then the rest); on a tailnet address, that
 * address. The hostname comes with the tailnet addresses (MagicDNS answers it on the tailnet).
 * A loopback listener gets none: only a proxy or tunnel on this machine reaches it, and its
 * URL is the one to advertise.
 */
export function suggestAdvertise(opts: { listenHost: string; port: number; interfaces: Interfaces; hostname: string }): Suggestion[] {
  const { listenHost, port } = opts
  if (isLoopbackHost(listenHost)) return []
  const wildcard = isWildcardHost(listenHost)
  const addresses: string[] = []
  if (wildcard) {
    for (const addrs of Object.values(opts.interfaces)) {
      for (const a of addrs ?? []) if (!a.internal && !isLinkLocal(a.address)) addresses.push(a.address)
    }
  } else addresses.push(unbracket(listenHost))
  const tailnet = addresses.filter(isTailnetAddress)
  const lan = addresses.filter(isPrivateLanAddress)
  const other = addresses.filter((a) => !isTailnetAddress(a) && !isPrivateLanAddress(a) && !isLoopbackHost(a))
  const out: Suggestion[] = []
  const name = cleanHostname(opts.hostname)
  if (tailnet.length > 0 && name) out.push({ url: urlFor(name, port), kind: 'tailnet-name', why: 'this machine by name on the tailnet (MagicDNS)' })
  for (const a of tailnet) out.push({ url: urlFor(a, port), kind: 'tailnet', why: 'tailnet address: reachable from your other tailnet machines' })
  for (const a of lan) out.push({ url: urlFor(a, port), kind: 'lan', why: 'LAN address: reachable on this network only' })
  for (const a of other)
    out.push({ url: urlFor(a, port), kind: 'public', why: 'public address: reachable if no firewall is in the way (prefer a tunnel with TLS)' })
  const seen = new Set<string>()
  return out.filter((s) => !seen.has(s.url) && seen.add(s.url))
}

/** Checks an advertise list as the operator gives it; throws BadInput naming what is wrong. */
export function checkAdvertiseList(urls: readonly string[]): string[] {
  if (urls.length > ADVERTISE_MAX_URLS) throw new BadInput(`advertise has ${urls.length} URLs (at most ${ADVERTISE_MAX_URLS}, what a handshake URL carries)`)
  if (new Set(urls).size !== urls.length) throw new BadInput('advertise lists a URL twice')
  for (const url of urls) {
    const problem = httpUrlProblem(url)
    if (problem) throw new BadInput(`advertised URL ${JSON.stringify(url.slice(0, 80))} ${problem}`)
  }
  return [...urls]
}

export interface ReachCheck {
  ok: boolean
  detail: string
}

/**
 * Whether other machines can reach what we advertise: to handshakes (`advertise`) and to a
 * rendezvous (the first advertised URL, else `heartbeatUrl`, the address the pod registers).
 * Loopback only, anywhere it is advertised, fails; advertising nothing without a rendezvous is
 * fine (peers then need `--url`), and says so.
 */
export function checkAdvertiseReach(opts: { advertise: readonly string[]; listenHost: string; heartbeatUrl: string | null }): ReachCheck {
  const hostOf = (url: string) => new URL(url).hostname
  const fix =
    'advertise a URL other machines reach (`mazemaker advertise suggest`, then `mazemaker advertise add <url>`), or listen on the tailnet/LAN address (`listen` in pod.toml)'
  if (opts.advertise.length > 0) {
    const loopback = opts.advertise.filter((u) => isLoopbackHost(hostOf(u)))
    if (loopback.length === opts.advertise.length) {
      return { ok: false, detail: `advertises only ${loopback.join(', ')}: loopback, no other machine can reach it; ${fix}` }
    }
    const reachable = opts.advertise.filter((u) => !isLoopbackHost(hostOf(u)))
    const note = loopback.length > 0 ? `; ${loopback.join(', ')} is loopback (other machines skip it)` : ''
    return { ok: true, detail: `advertises ${reachable.join(', ')}${note}` }
  }
  if (opts.heartbeatUrl !== null) {
    if (isLoopbackHost(hostOf(opts.heartbeatUrl))) {
      return {
        ok: false,
        detail: `registers ${opts.heartbeatUrl} at the rendezvous (pod.toml advertises nothing and the pod listens on loopback): no other machine can reach it; ${fix}`,
      }
    }
    return { ok: true, detail: `registers ${opts.heartbeatUrl} at the rendezvous (the listen address; nothing advertised)` }
  }
  if (isLoopbackHost(opts.listenHost)) {
    return {
      ok: true,
      detail:
        'advertises nothing and listens on loopback: each peer must be given a URL (--url) that reaches this pod through a proxy or tunnel; to pair with one paste, run `mazemaker advertise suggest`',
    }
  }
  return { ok: true, detail: "advertises nothing: each peer must be given this pod's URL (--url); see `mazemaker advertise suggest`" }
}

/**
 * What to tell the operator when the handshake URL carries no address (`advertise = []`): the
 * other side must then type a URL, which the product page never asks of them. Null when the pod
 * advertises something. `listen` is where the pod listens (the running pod's own port).
 */
export function advertiseWarning(opts: { advertise: readonly string[]; listenHost: string; port: number; suggestions: readonly Suggestion[] }): string | null {
  if (opts.advertise.length > 0) return null
  const first = opts.suggestions[0]
  if (first) {
    return `the handshake URL carries no address, so whoever pastes it must also type a URL; advertise one: \`mazemaker advertise add ${first.url}\` (${first.why})`
  }
  if (isLoopbackHost(opts.listenHost)) {
    return (
      `the handshake URL carries no address, and the pod listens on ${opts.listenHost}:${opts.port}, which only this machine reaches: ` +
      `set listen = "0.0.0.0:${opts.port}" in pod.toml and restart (or put \`tailscale serve\` or a tunnel in front), then \`mazemaker advertise add <url>\``
    )
  }
  return 'the handshake URL carries no address, so whoever pastes it must also type a URL; advertise one: `mazemaker advertise add <url>`'
}
