/**
 * pod.toml: smol-toml parse → valibot strictObject (defaults live in the schema, typos fail)
 * → PodConfig. The pod writes it once on first boot and never again on its own; an invalid
 * file stops the pod with a message naming the file and the problem.
 */
import { hostname } from 'node:os'
import { basename } from 'node:path'
import { stringify } from 'smol-toml'
import * as v from 'valibot'
import { HomeError } from '../lib/errors'
import { writeFileAtomic } from '../lib/atomic-file'
import { checkWith, describeIssues, parseTomlText, hasControlChars, httpUrlProblem, nameProblem, NAME_MAX_CHARS, originProblem } from '../lib/text-checks'
import { readPrivateFile } from '../lib/private-files'
import { HANDSHAKE_MAX_URLS, isUuid, type PodId } from '../protocol'
import type { PodConfig } from './types'

export const DEFAULT_LISTEN = '127.0.0.1:8765'
/** `advertise` holds at most what a handshake URL carries. */
export const ADVERTISE_MAX_URLS = HANDSHAKE_MAX_URLS
export const DEFAULT_SYNC_INTERVAL_S = 300
export const MIN_SYNC_INTERVAL_S = 10
export const MAX_SYNC_INTERVAL_S = 86_400
export const DEFAULT_MAX_CONTENT_BYTES = 65_536
export const MAX_MAX_CONTENT_BYTES = 16_777_216
export const DEFAULT_MAX_PEER_BYTES = 256 * 1024 * 1024
export const DEFAULT_PUBLIC_PREFIXES: readonly string[] = Object.freeze([
  'public:',
  'auto:',
  'decision:',
  'bug:',
  'ops:',
  'skill:',
  'reference:',
  'invariant:',
  'commit:',
  'project:',
  'signal:',
  'feedback:',
  'index:',
])

const HEADER = '# Mazemaker pod settings, read at start (restart the pod after editing).\n' + "# pod_id is this pod's identity: never change it.\n\n"

/** The machine's hostname made into a valid pod name (default `name`). */
export function defaultPodName(host: string = hostname(), homeDir?: string): string {
  // Two pods on one machine (homes /tmp/alice and /tmp/bob) must not look the same to their
  // peers: a home other than the default adds its folder's name (`tpad-alice`).
  const folder = homeDir === undefined ? '' : basename(homeDir).replace(/^\.+/, '')
  const raw = folder === '' || folder === DEFAULT_HOME_FOLDER ? host : `${host}-${folder}`
  const cleaned = [...raw.replace(/[\u0000-\u001f\u007f-\u009f]/g, '').trim()].slice(0, NAME_MAX_CHARS).join('')
  return cleaned === '' || hasControlChars(cleaned) ? 'pod' : cleaned
}

/** The default home's folder name, without its dot (~/.mazemaker). */
const DEFAULT_HOME_FOLDER = 'mazemaker'

/** `"127.0.0.1:8765"` → host and port; `"[::1]:8765"` → `::1` (the value was validated at load). */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(listen)
  return m ? { host: m[1]!, port: Number(m[2]) } : { host: '127.0.0.1', port: 8765 }
}

function listenProblem(text: string): string | null {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text)
  if (!m || Number(m[2]) > 65535) return 'must be host:port, e.g. "127.0.0.1:8765" or "[::1]:8765"'
  return null
}

const PodConfigSchema = v.strictObject({
  pod_id: v.pipe(
    v.string(),
    v.check((s: string) => isUuid(s), 'must be a lowercase UUID'),
  ),
  name: v.optional(
    v.pipe(
      v.string(),
      checkWith((s) => nameProblem(s)),
    ),
    () => defaultPodName(),
  ),
  listen: v.optional(v.pipe(v.string(), checkWith(listenProblem)), DEFAULT_LISTEN),
  advertise: v.optional(
    v.pipe(
      v.array(v.pipe(v.string(), checkWith(httpUrlProblem))),
      v.maxLength(ADVERTISE_MAX_URLS, `has more than ${ADVERTISE_MAX_URLS} URLs (a handshake carries at most ${ADVERTISE_MAX_URLS})`),
      v.check((list: string[]) => new Set(list).size === list.length, 'lists a URL twice'),
    ),
    () => [],
  ),
  /** Before `advertise` (a list) there was one URL; still read, merged in front, never written. */
  advertise_url: v.optional(
    v.pipe(
      v.string(),
      checkWith((s) => (s === '' ? null : httpUrlProblem(s))),
    ),
    '',
  ),
  sync_interval: v.optional(v.pipe(v.number(), v.integer(), v.minValue(MIN_SYNC_INTERVAL_S), v.maxValue(MAX_SYNC_INTERVAL_S)), DEFAULT_SYNC_INTERVAL_S),
  public_prefixes: v.optional(
    v.pipe(
      v.array(
        v.pipe(
          v.string(),
          v.minLength(1),
          v.maxLength(64),
          checkWith((s) => (hasControlChars(s) ? 'must not contain control characters' : null)),
        ),
      ),
      v.maxLength(256),
    ),
    () => [...DEFAULT_PUBLIC_PREFIXES],
  ),
  max_content_bytes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_MAX_CONTENT_BYTES)), DEFAULT_MAX_CONTENT_BYTES),
  max_peer_bytes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(Number.MAX_SAFE_INTEGER)), DEFAULT_MAX_PEER_BYTES),
  allowed_origins: v.optional(v.pipe(v.array(v.pipe(v.string(), checkWith(originProblem))), v.maxLength(64)), () => []),
  rendezvous: v.optional(
    v.strictObject({
      url: v.pipe(v.string(), checkWith(httpUrlProblem)),
      token: v.pipe(
        v.string(),
        v.minLength(1),
        v.maxLength(4096),
        checkWith((s) => (/\s/.test(s) ? 'must not contain whitespace' : null)),
      ),
    }),
  ),
})

/** The old single `advertise_url` goes first (it was the only URL), without duplicates, within the limit. */
function mergeLegacyAdvertise(list: string[], legacy: string): string[] {
  if (legacy === '' || list.includes(legacy)) return list
  if (list.length >= ADVERTISE_MAX_URLS) {
    throw new HomeError(
      `pod.toml has advertise_url and ${list.length} advertise URLs (at most ${ADVERTISE_MAX_URLS} in all); move advertise_url into advertise and drop one`,
    )
  }
  return [legacy, ...list]
}

/** Parses pod.toml text; `path` only names the file in errors. Throws HomeError. */
export function parsePodConfig(text: string, path = 'pod.toml'): PodConfig {
  let raw: unknown
  try {
    raw = parseTomlText(text)
  } catch (err) {
    throw new HomeError(`pod.toml at ${path} does not parse (${(err as Error).message}); fix it by hand`, { cause: err })
  }
  const r = v.safeParse(PodConfigSchema, raw)
  if (!r.success) {
    throw new HomeError(`pod.toml at ${path} is invalid (${describeIssues(r.issues).join('; ')}); fix it by hand`)
  }
  const c = r.output
  return {
    pod_id: c.pod_id as PodId,
    name: c.name,
    listen: c.listen,
    advertise: mergeLegacyAdvertise(c.advertise, c.advertise_url),
    sync_interval: c.sync_interval,
    public_prefixes: c.public_prefixes,
    max_content_bytes: c.max_content_bytes,
    max_peer_bytes: c.max_peer_bytes,
    allowed_origins: c.allowed_origins,
    rendezvous: c.rendezvous ? { url: c.rendezvous.url, token: c.rendezvous.token } : null,
  }
}

/** Reads and validates pod.toml (must exist, mode 0600). Throws HomeError. */
export function loadPodConfig(path: string): PodConfig {
  const text = readPrivateFile(path, 'pod.toml')
  if (text === null) throw new HomeError(`pod.toml at ${path} is missing; start the pod once (mazemaker serve) to create it`)
  return parsePodConfig(text, path)
}

/** Every key, in a fixed order; the result parses back to the same config. */
export function formatPodConfig(config: PodConfig, path = 'pod.toml'): string {
  const { rendezvous, ...rest } = config
  const doc: Record<string, unknown> = {
    pod_id: rest.pod_id,
    name: rest.name,
    listen: rest.listen,
    advertise: rest.advertise,
    sync_interval: rest.sync_interval,
    public_prefixes: rest.public_prefixes,
    max_content_bytes: rest.max_content_bytes,
    max_peer_bytes: rest.max_peer_bytes,
    allowed_origins: rest.allowed_origins,
  }
  if (rendezvous) doc.rendezvous = { url: rendezvous.url, token: rendezvous.token }
  const text = HEADER + stringify(doc)
  // Never write a file we would refuse to read back.
  parsePodConfig(text, path)
  return text
}

/**
 * Re-reads pod.toml, replaces `advertise` and writes it back atomically (0600), so an edit
 * made by hand since the pod started is kept. Returns the new config.
 */
export function updatePodConfig(path: string, change: (config: PodConfig) => PodConfig): PodConfig {
  const next = change(loadPodConfig(path))
  savePodConfig(path, next)
  return next
}

/** Writes pod.toml atomically with mode 0600. */
export function savePodConfig(path: string, config: PodConfig): void {
  writeFileAtomic(path, formatPodConfig(config, path), 0o600)
}
