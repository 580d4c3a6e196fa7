/**
 * http(s) URLs: the one rule for a URL that a pod is reached at (advertised, registered at a
 * rendezvous, returned by a lookup, put in a handshake or peers.toml), and URLs for addresses
 * we listen on.
 *
 * A reachable URL is a base: callers append a route (`/peer/sync`, `/api/peers/register`) to
 * it as text. A `?` or `#` in the base would turn that route into a query or fragment and send
 * the request to whatever path precedes it (a blind SSRF); credentials would be sent to whoever
 * the URL names. So: absolute http/https with a host, printable ASCII only (IDN hosts in their
 * xn-- form, other characters percent-encoded), no query, no fragment, no user:password@, no
 * backslash (parsers disagree on it); a path prefix is allowed.
 */
import * as v from 'valibot'

export const HTTP_URL_MAX_CHARS = 2048

const PRINTABLE_ASCII_RE = /^[\x21-\x7e]*$/
const SCHEME_RE = /^https?:\/\//i

/** What is wrong with `text` as a reachable http(s) URL (a phrase to put after its name), or null. */
export function httpUrlProblem(text: string): string | null {
  if (text.length > HTTP_URL_MAX_CHARS) return `is longer than ${HTTP_URL_MAX_CHARS} characters`
  if (/[\s\x00-\x1f\x7f-\x9f]/.test(text)) return 'must not contain whitespace or control characters'
  if (!PRINTABLE_ASCII_RE.test(text)) return 'must be ASCII: percent-encode other characters, IDN hosts as xn--…'
  if (!SCHEME_RE.test(text)) return 'must start with http:// or https://'
  if (text.includes('\\')) return 'must not contain a backslash'
  // Checked on the text: the URL parser drops an empty query or fragment ("http://h/?" has search "").
  if (text.includes('?')) return 'must not have a query (?…): give the base URL only'
  if (text.includes('#')) return 'must not have a fragment (#…): give the base URL only'
  const authority = text.slice(text.indexOf('//') + 2).split('/', 1)[0]!
  if (authority.includes('@')) return 'must not contain credentials (user:password@)'
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return 'is not a valid URL'
  }
  if (url.hostname === '') return 'has no host'
  return null
}

export function isHttpUrl(text: unknown): text is string {
  return typeof text === 'string' && httpUrlProblem(text) === null
}

/** valibot schema of a reachable http(s) URL; the issue message is httpUrlProblem's phrase. */
export const HttpUrlSchema = v.pipe(
  v.string('must be a string'),
  v.rawCheck<string>(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    const problem = httpUrlProblem(dataset.value)
    if (problem) addIssue({ message: problem })
  }),
)

/**
 * `http://<host>:<port>` for reaching a local listener: IPv6 literals get brackets, and
 * wildcard binds (0.0.0.0, ::, empty) are reached through loopback.
 */
export function localHttpUrl(host: string, port: number): string {
  const reachable = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`
}
