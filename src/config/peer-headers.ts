/**
 * Per-peer secret request headers (contract Parts 1b, 1c): `peer-keys/headers/<pod-id>.toml`,
 * 0600, `Header-Name = "value"` lines, e.g. the Cloudflare Access service-token pair, and
 * `for = ["https://…"]`, the origins they are for. They go only to those origins, never over plain
 * http except to loopback (header-origins.ts); they are never logged, never written to peers.toml
 * and never shown back in full (list() masks them). Names must be HTTP tokens and may not touch
 * what the protocol or the transport owns (Authorization, Content-Type, Host, hop-by-hop, Mzm-*,
 * and `for`); values are one line of visible ASCII. The file is re-read only when its stat
 * signature changes. A file from before `for` is bound, on first use, to the origins the caller
 * names (the peer's configured URLs), and written back with them.
 */
import { readFileSync, unlinkSync, type Stats } from 'node:fs'
import { join } from 'node:path'
import { stringify } from 'smol-toml'
import { writeFileAtomic } from '../lib/atomic-file'
import { BadInput, PodError } from '../lib/errors'
import { ensurePrivateDir, isMissing, modeText, statOrNull } from '../lib/private-files'
import { parseTomlText } from '../lib/text-checks'
import { isUuid, type PodId } from '../protocol'
import { headersWithheldBecause, originOf, originProblem } from './header-origins'

const isPodId = (id: string): id is PodId => isUuid(id)

/** Headers one peer may carry: Access needs two; a few more for other proxies. */
export const PEER_HEADERS_MAX = 16
const HEADER_NAME_MAX_CHARS = 64
const HEADER_VALUE_MAX_CHARS = 4096
const TOKEN_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const VALUE_RE = /^[\x20-\x7e\t]*$/

/** The protocol's own headers and the transport's (hop-by-hop, framing): never set by an operator file. */
const RESERVED: ReadonlySet<string> = new Set([
  'authorization',
  'content-type',
  'content-length',
  'content-encoding',
  'transfer-encoding',
  'host',
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
  'expect',
])

/** Typed so the error mapper answers 400 and a pull records `bad_headers`. */
export class BadPeerHeaders extends PodError {
  constructor(message: string) {
    super('bad_headers', message)
  }
}

/** The file's key that lists the origins the headers are for (not a header). */
export const ORIGINS_KEY = 'for'
/** Origins one file may name. */
const ORIGINS_MAX = 8

/** What is wrong with `name` as a header an operator may set, or null. */
export function headerNameProblem(name: string): string | null {
  if (name.length === 0) return 'must not be empty'
  if (name === ORIGINS_KEY) return `is the list of origins the headers are for (\`${ORIGINS_KEY} = [...]\`), not a header`
  if (name.length > HEADER_NAME_MAX_CHARS) return `is longer than ${HEADER_NAME_MAX_CHARS} characters`
  if (!TOKEN_RE.test(name)) return "must be an HTTP token (letters, digits and !#$%&'*+.^_`|~-)"
  const lower = name.toLowerCase()
  if (RESERVED.has(lower)) return 'is set by the pod or the transport itself and cannot be overridden'
  if (lower.startsWith('mzm-')) return 'is reserved for the protocol (Mzm-*)'
  return null
}

/** What is wrong with `value` as a header value, or null (never quotes the value: it is a secret). */
export function headerValueProblem(value: string): string | null {
  if (value.trim() === '') return 'must not be empty'
  if (value.length > HEADER_VALUE_MAX_CHARS) return `is longer than ${HEADER_VALUE_MAX_CHARS} characters`
  if (/[\r\n\0]/.test(value)) return 'must be one line (no CR, LF or NUL)'
  if (!VALUE_RE.test(value)) return 'must be visible ASCII'
  return null
}

/** `abcd…` plus the length: enough to tell two tokens apart, never enough to use one. */
export function maskHeaderValue(value: string): string {
  const shown = value.length >= 16 ? value.slice(0, 4) : ''
  return `${shown}…(${value.length} chars)`
}

export interface PeerHeaderView {
  name: string
  /** Masked; the full value is never shown back. */
  value: string
}

interface Parsed {
  headers: Record<string, string>
  /** The origins they are for; null in a file from before `for`. */
  origins: string[] | null
}

interface Cached extends Parsed {
  sig: string
}

/** What to send with one request: the headers, or none and why. */
export interface HeadersForUrl {
  headers: Record<string, string>
  /** Set when the peer has headers that this URL must not get. */
  withheld: string | null
}

function signature(st: Stats): string {
  return `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`
}

export class PeerHeaders {
  readonly #dir: string
  #cache = new Map<PodId, Cached>()

  constructor(opts: { dir: string }) {
    this.#dir = opts.dir
  }

  /** `peer-keys/headers/<id>.toml`; only ever called with a checked id, so it cannot leave the directory. */
  path(id: PodId): string {
    return join(this.#dir, `${id}.toml`)
  }

  /**
   * The headers to send to `id` ({} when it has no file). Throws BadPeerHeaders for a file that
   * others can read, that does not parse, or that holds a refused name or value: sending a
   * request without the headers the operator meant would only fail further away.
   */
  get(id: string): Record<string, string> {
    return { ...this.#load(id).headers }
  }

  /** The origins the headers are for; null when the file predates `for` (or there is none). */
  origins(id: string): string[] | null {
    const o = this.#load(id).origins
    return o === null ? null : [...o]
  }

  /**
   * The headers a request to `url` carries: all of them if its origin is one they are for (and
   * it is https, or http to loopback), else none. A file without `for` is bound first to
   * `bindTo()` (the peer's configured URL origins), written back, and `onBound` is told.
   */
  forUrl(id: string, url: string, bindTo: () => string[], onBound?: (origins: string[]) => void): HeadersForUrl {
    const parsed = this.#load(id)
    if (Object.keys(parsed.headers).length === 0) return { headers: {}, withheld: null }
    let origins = parsed.origins
    if (origins === null) {
      origins = bindTo()
      this.#write(id as PodId, parsed.headers, origins)
      onBound?.(origins)
    }
    const why = headersWithheldBecause(url, origins)
    return why === null ? { headers: { ...parsed.headers }, withheld: null } : { headers: {}, withheld: why }
  }

  /** Replaces the origins the headers are for (each checked: an https origin, or http to loopback). */
  setOrigins(id: PodId, origins: readonly string[]): string[] {
    const checked = checkOrigins(origins, (m) => new BadInput(m))
    const { headers } = this.#load(id)
    if (Object.keys(headers).length === 0) throw new BadInput('this peer has no headers to bind: set one first')
    this.#write(id, headers, checked)
    return checked
  }

  #load(id: string): Parsed {
    if (!isPodId(id)) return { headers: {}, origins: [] }
    const path = this.path(id)
    const st = statOrNull(path)
    if (!st) {
      this.#cache.delete(id)
      return { headers: {}, origins: [] }
    }
    const sig = signature(st)
    const hit = this.#cache.get(id)
    if (hit?.sig === sig) return hit
    if (!st.isFile()) throw new BadPeerHeaders(`${path} is not a regular file`)
    if (st.mode & 0o077) throw new BadPeerHeaders(`${path} has mode ${modeText(st.mode)} and holds secrets; run: chmod 600 ${path}`)
    const parsed = this.#parse(readFileSync(path, 'utf8'), path)
    this.#cache.set(id, { sig, ...parsed })
    return parsed
  }

  /** Names and masked values, in file order. */
  list(id: PodId): PeerHeaderView[] {
    return Object.entries(this.get(id)).map(([name, value]) => ({ name, value: maskHeaderValue(value) }))
  }

  /**
   * Sets one header (an existing one of the same name, in any case, is replaced); written
   * atomically 0600. `origins`: what they are for, replacing the file's list; default the file's
   * own, or for a new (or pre-`for`) file `defaultOrigins`.
   */
  set(id: PodId, name: string, value: string, origins?: readonly string[], defaultOrigins: readonly string[] = []): PeerHeaderView[] {
    const nameProblem = headerNameProblem(name)
    if (nameProblem) throw new BadInput(`header name ${JSON.stringify(name.slice(0, 80))} ${nameProblem}`)
    const valueProblem = headerValueProblem(value)
    if (valueProblem) throw new BadInput(`value of ${name} ${valueProblem}`)
    const current = this.#load(id)
    const headers = { ...current.headers }
    for (const k of Object.keys(headers)) if (k.toLowerCase() === name.toLowerCase()) delete headers[k]
    headers[name] = value.trim()
    if (Object.keys(headers).length > PEER_HEADERS_MAX) throw new BadInput(`a peer may have at most ${PEER_HEADERS_MAX} headers`)
    const bound = origins ?? (Object.keys(current.headers).length > 0 && current.origins !== null ? current.origins : defaultOrigins)
    this.#write(
      id,
      headers,
      checkOrigins(bound, (m) => new BadInput(m)),
    )
    return this.list(id)
  }

  /** Removes one header; false when it was not set. The file goes when its last header does. */
  unset(id: PodId, name: string): boolean {
    const { headers: current, origins } = this.#load(id)
    const headers = { ...current }
    const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase())
    if (key === undefined) return false
    delete headers[key]
    if (Object.keys(headers).length === 0) this.remove(id)
    else this.#write(id, headers, origins ?? [])
    return true
  }

  /** Deletes the peer's header file (with the peer); true if it existed. */
  remove(id: string): boolean {
    if (!isPodId(id)) return false
    this.#cache.delete(id)
    try {
      unlinkSync(this.path(id))
      return true
    } catch (err) {
      if (isMissing(err)) return false
      throw err
    }
  }

  #parse(text: string, path: string): Parsed {
    let raw: unknown
    try {
      raw = parseTomlText(text)
    } catch (err) {
      throw new BadPeerHeaders(`${path} does not parse (${(err as Error).message}); fix it or set the headers again with \`mazemaker peer headers set\``)
    }
    const { [ORIGINS_KEY]: forValue, ...entries } = raw as Record<string, unknown>
    let origins: string[] | null = null
    if (forValue !== undefined) {
      if (!Array.isArray(forValue) || !forValue.every((o) => typeof o === 'string'))
        throw new BadPeerHeaders(`${path}: ${ORIGINS_KEY} must be a list of origins, e.g. ${ORIGINS_KEY} = ["https://peer.example.org"]`)
      origins = checkOrigins(forValue, (m) => new BadPeerHeaders(`${path}: ${m}`))
    }
    const out: Record<string, string> = {}
    for (const [name, value] of Object.entries(entries)) {
      const problem = headerNameProblem(name)
      if (problem) throw new BadPeerHeaders(`${path}: header ${JSON.stringify(name.slice(0, 80))} ${problem}`)
      if (typeof value !== 'string') throw new BadPeerHeaders(`${path}: ${name} must be a string ("value")`)
      const valueProblem = headerValueProblem(value)
      if (valueProblem) throw new BadPeerHeaders(`${path}: value of ${name} ${valueProblem}`)
      out[name] = value.trim()
    }
    if (Object.keys(out).length > PEER_HEADERS_MAX) throw new BadPeerHeaders(`${path} has more than ${PEER_HEADERS_MAX} headers`)
    return { headers: out, origins }
  }

  #write(id: PodId, headers: Record<string, string>, origins: readonly string[]): void {
    ensurePrivateDir(this.#dir, 'peer headers directory')
    const text =
      '# Secret request headers for this peer (never logged), sent only to the origins in `for`\n' +
      '# (https, or http to loopback). 0600.\n' +
      stringify({ [ORIGINS_KEY]: [...origins], ...headers })
    // Never write what we would refuse to read back.
    const back = this.#parse(text, this.path(id))
    if (JSON.stringify(back) !== JSON.stringify({ headers, origins })) throw new Error('peer headers did not round-trip; refusing to write them')
    writeFileAtomic(this.path(id), text, 0o600)
    this.#cache.delete(id)
  }
}

/** `origins` checked (an https origin, or http to loopback, at most ORIGINS_MAX), duplicates dropped. */
function checkOrigins(origins: readonly string[], fail: (message: string) => Error): string[] {
  const out: string[] = []
  for (const o of origins) {
    const problem = originProblem(o)
    if (problem) throw fail(`${ORIGINS_KEY}: ${JSON.stringify(o.slice(0, 200))} ${problem}`)
    const origin = originOf(o)!
    if (!out.includes(origin)) out.push(origin)
  }
  if (out.length > ORIGINS_MAX) throw fail(`${ORIGINS_KEY}: at most ${ORIGINS_MAX} origins`)
  return out
}
