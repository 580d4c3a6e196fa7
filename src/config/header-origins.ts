/**
 * Where a peer's secret headers may go (contract Part 1c): only to the origins their file names
 * (`for = ["https://wonder-alice.team.example"]`), never over plain http except to loopback. A
 * URL a rendezvous returned or a handshake carried gets them only if its origin is listed, since
 * whoever answers there would read a Cloudflare Access token like any other header.
 */
import { isLoopbackHost } from './advertise'

/** `scheme://host[:port]` of an http(s) URL, as URL.origin spells it; null for anything else. */
export function originOf(url: string): string | null {
  try {
    const u = new URL(url)
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.origin : null
  } catch {
    return null
  }
}

/** Why headers for `origins` must not go to `url`, or null when they may. */
export function headersWithheldBecause(url: string, origins: readonly string[]): string | null {
  const origin = originOf(url)
  if (origin === null) return 'not an http(s) URL'
  const u = new URL(url)
  if (u.protocol === 'http:' && !isLoopbackHost(u.hostname)) return 'plain http to another machine (anyone on the path reads them)'
  if (!origins.includes(origin)) return `${origin} is not among the origins they are for (${origins.length ? origins.join(', ') : 'none'})`
  return null
}

/**
 * The origins `peer headers set` binds new headers to: those of the peer's configured URLs that
 * may carry them (https, or http to loopback); rendezvous placeholders and plain-http LAN URLs
 * never qualify.
 */
export function defaultHeaderOrigins(urls: readonly string[]): string[] {
  const out: string[] = []
  for (const url of urls) {
    const origin = originOf(url) // null for a rendezvous placeholder (mzm-rendezvous://…)
    if (origin !== null && headersWithheldBecause(url, [origin]) === null && !out.includes(origin)) out.push(origin)
  }
  return out
}

/** What is wrong with `text` as an entry of `for` (an origin exactly: scheme, host, port), or null. */
export function originProblem(text: string): string | null {
  const origin = originOf(text)
  if (origin === null) return 'must be an http(s) origin such as "https://peer.example.org"'
  if (origin !== text.replace(/\/$/, '').toLowerCase()) return `must be an origin only (scheme, host and port, no path): ${origin}`
  if (origin.startsWith('http:') && !isLoopbackHost(new URL(origin).hostname)) return 'must be https (plain http only to loopback)'
  return null
}
