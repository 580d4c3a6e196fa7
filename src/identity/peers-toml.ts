/**
 * peers.toml (contract "peers.toml"): one `[peers.<pod-id>]` table per relationship with
 * `name`, `url` (one URL or a list tried in order), `sync`, `scope` and `live`. Parsing validates every table as strictly as the API
 * validates input; writing goes through smol-toml and is read back before it is trusted, so
 * a name or URL can never smuggle in a table of its own.
 */
import { stringify } from 'smol-toml'
import * as v from 'valibot'
import { BadInput } from '../lib/errors'
import { globLimitProblem, scopeLimitProblem } from '../protocol'
import { checkWith, describeIssues, hasControlChars, parseTomlText, httpUrlProblem, nameProblem, quote } from '../lib/text-checks'
import { isPodId } from './pod-id'
import type { PeerEntry, PodId } from './types'

/**
 * A new peer's scope, and a table's without `scope`: everything this pod's gate lets a peer have
 * (the other pod's gate still keeps private and `AES:` content out), so "paste the handshake both
 * ways" shares `auto:`, `decision:` … as the product page says. `scope` narrows it.
 */
export const NEW_PEER_SCOPE: readonly string[] = Object.freeze(['*'])
export const RENDEZVOUS_SCHEME = 'mzm-rendezvous://'

const HEADER =
  '# Peers of this pod: one [peers.<pod-id>] table per relationship. A relationship exists only\n' +
  '# while both its table and peer-keys/peers/<pod-id>.key exist. Edits take effect by the next\n' +
  '# sync tick; the pod rewrites this file (without comments) when peers are added or changed.\n'

/** Beyond the wire's limits, a glob the operator configures has no control characters. */
const controlChars = (glob: string) => (hasControlChars(glob) ? 'must not contain control characters' : null)

/** One label glob of a scope the operator configures: the wire limits (src/protocol/scope.ts), and no control characters. */
export function globProblem(glob: string): string | null {
  return globLimitProblem(glob) ?? controlChars(glob)
}

/** What is wrong with a scope (already an array), or null: the wire's check, naming the glob. */
export function scopeProblem(scope: readonly string[]): string | null {
  return scopeLimitProblem(scope, { globProblem: controlChars, name: (glob) => quote(glob, 40) })
}

/** `"public:*"` or `["a:*", "b:*"]` → array of globs; throws BadInput. */
export function normalizeScope(scope: string | readonly string[]): string[] {
  const list = typeof scope === 'string' ? [scope] : [...scope]
  const problem = scopeProblem(list)
  if (problem) throw new BadInput(`peer scope ${problem}`)
  return list
}

/** URLs one peer may list (tried in order): a handshake's four plus a few of the operator's own. */
export const PEER_MAX_URLS = 8

/** One peer URL: http(s)://…, or mzm-rendezvous://<that peer's own id>. */
function oneUrlProblem(id: PodId, url: string): string | null {
  if (url.toLowerCase().startsWith(RENDEZVOUS_SCHEME)) {
    return url === `${RENDEZVOUS_SCHEME}${id}` ? null : `must be ${RENDEZVOUS_SCHEME}${id} (this peer's own id)`
  }
  return httpUrlProblem(url)
}

/**
 * A peer's `url`: "" (pending), one URL, or a list tried in order; each http(s)://… or
 * mzm-rendezvous://<that peer's own id>.
 */
export function peerUrlProblem(id: PodId, url: string | readonly string[]): string | null {
  if (typeof url === 'string') return url === '' ? null : oneUrlProblem(id, url)
  if (url.length > PEER_MAX_URLS) return `lists ${url.length} URLs (at most ${PEER_MAX_URLS})`
  if (new Set(url).size !== url.length) return 'lists a URL twice'
  for (const [i, one] of url.entries()) {
    if (one === '') return `#${i + 1} is empty (leave it out)`
    const problem = oneUrlProblem(id, one)
    if (problem) return url.length > 1 ? `#${i + 1} ${problem}` : problem
  }
  return null
}

/** `url` as peers.toml writes it: "" for none, a string for one, an array for several. */
export function normalizePeerUrl(url: string | readonly string[]): string | string[] {
  if (typeof url === 'string') return url
  return url.length === 0 ? '' : url.length === 1 ? url[0]! : [...url]
}

/** The URLs of a peer in the order they are tried ([] = pending). */
export function peerUrls(entry: { url: string | readonly string[] }): string[] {
  return typeof entry.url === 'string' ? (entry.url === '' ? [] : [entry.url]) : [...entry.url]
}

/** Throws BadInput unless the entry is valid as a whole. */
export function checkPeerEntry(entry: PeerEntry): void {
  const problems: string[] = []
  const name = nameProblem(entry.name, { allowEmpty: true })
  if (name) problems.push(`name ${name}`)
  const url = peerUrlProblem(entry.id, entry.url)
  if (url) problems.push(`url ${url}`)
  const scope = scopeProblem(entry.scope)
  if (scope) problems.push(`scope ${scope}`)
  if (problems.length > 0) throw new BadInput(`peer ${problems.join('; ')}`, problems)
}

/** A scope as the operator gives it (peers.toml, the peer API): one glob or a list, checked against the limits. */
export const ScopeSchema = v.pipe(
  v.union([v.string(), v.array(v.string())], 'must be a glob string or an array of glob strings'),
  v.transform((s): string[] => (typeof s === 'string' ? [s] : s)),
  v.rawCheck<string[]>(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    const problem = scopeProblem(dataset.value)
    if (problem) addIssue({ message: problem })
  }),
)

const PeerTableSchema = v.strictObject({
  name: v.optional(
    v.pipe(
      v.string(),
      checkWith((s) => nameProblem(s, { allowEmpty: true })),
    ),
    '',
  ),
  url: v.optional(v.union([v.string(), v.array(v.string())], 'must be a URL string or an array of URL strings'), ''),
  sync: v.optional(v.boolean(), true),
  live: v.optional(v.boolean(), true),
  scope: v.optional(ScopeSchema, () => [...NEW_PEER_SCOPE]),
})

const PeersFileSchema = v.strictObject({
  peers: v.optional(v.record(v.string(), PeerTableSchema), () => ({})),
})

/**
 * Parses peers.toml text. Throws an Error whose message says where and what is wrong
 * (`line 3, column 5: …` or `peers.<id>.sync: …`), meant to follow "peers.toml at <path> does not parse".
 */
export function parsePeersToml(text: string, selfId: PodId): PeerEntry[] {
  const raw = parseTomlText(text)
  const r = v.safeParse(PeersFileSchema, raw)
  if (!r.success) throw new Error(describeIssues(r.issues).join('; '))
  const entries: PeerEntry[] = []
  for (const [id, table] of Object.entries(r.output.peers)) {
    if (!isPodId(id)) throw new Error(`[peers.${id}]: peer id must be a lowercase UUID`)
    if (id === selfId) throw new Error(`[peers.${id}]: that is this pod's own id`)
    const urlProblem = peerUrlProblem(id, table.url)
    if (urlProblem) throw new Error(`peers.${id}.url ${urlProblem}`)
    entries.push({ id, name: table.name, url: normalizePeerUrl(table.url), sync: table.sync, scope: table.scope, ...(table.live ? {} : { live: false }) })
  }
  return entries
}

/** peers.toml text for these entries; a one-glob scope is written as a plain string. */
export function formatPeersToml(entries: readonly PeerEntry[], selfId: PodId): string {
  const peers: Record<string, Record<string, unknown>> = {}
  for (const e of entries) {
    checkPeerEntry(e)
    if (!isPodId(e.id)) throw new BadInput(`peer id must be a lowercase UUID, got ${quote(e.id)}`)
    peers[e.id] = {
      name: e.name,
      url: normalizePeerUrl(e.url),
      sync: e.sync,
      scope: e.scope.length === 1 ? e.scope[0] : [...e.scope],
      ...(e.live === false ? { live: false } : {}),
    }
  }
  const text = entries.length === 0 ? HEADER : `${HEADER}\n${stringify({ peers })}`
  // Defence in depth: the text must read back as exactly these entries.
  const back = parsePeersToml(text, selfId)
  if (
    JSON.stringify(back) !==
    JSON.stringify(
      entries.map((e) => ({
        id: e.id,
        name: e.name,
        url: normalizePeerUrl(e.url),
        sync: e.sync,
        scope: e.scope,
        ...(e.live === false ? { live: false } : {}),
      })),
    )
  ) {
    throw new Error('peers.toml serialisation did not round-trip; refusing to write it')
  }
  return text
}
