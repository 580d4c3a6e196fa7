/**
 * Whom we trust: peers.toml plus one key file per peer (peer-keys/peers/<id>.key). A
 * relationship exists only while both exist, and trusted() stats both on every call, so
 * deleting either by hand revokes the peer on its very next request, without a restart (the
 * held long-polls one wake answers in a turn share one look at the table: trustedInBatch).
 * Files are re-read only when their stat signature changes. A broken peers.toml is never
 * fatal and never overwritten: the last good copy stays in use and the error is reported.
 */
import { readFileSync, unlinkSync, type Stats } from 'node:fs'
import { join } from 'node:path'
import { Conflict, NotFound, BadInput, PeerExists } from '../lib/errors'
import type { Logger } from '../lib/log'
import { writeFileAtomic } from '../lib/atomic-file'
import { ensurePrivateDir, isMissing, modeText, statOrNull } from '../lib/private-files'
import { isPublicKey, parsePublicKey } from './keys'
import { checkPeerEntry, NEW_PEER_SCOPE, formatPeersToml, normalizePeerUrl, normalizeScope, parsePeersToml } from './peers-toml'
import { isPodId, parsePodId, shortId } from './pod-id'
import type { HomePaths, PeerEntry, PeerRecord, PodId, PublicKey } from './types'

export interface PeerInput {
  id: PodId
  key: PublicKey
  name?: string
  /** One URL or several, tried in order ("" or [] = pending). */
  url?: string | string[]
  sync?: boolean
  scope?: string | string[]
}

export interface PeerPatch {
  url?: string | string[]
  sync?: boolean
  scope?: string | string[]
  name?: string
  /** Hold a long-poll open to this peer (peers.toml `live`). */
  live?: boolean
}

/** What says a file changed: ino changes on every atomic rewrite; size/mtime/ctime catch in-place edits. */
interface FileSignature {
  ino: number
  size: number
  mtimeMs: number
  ctimeMs: number
}

interface KeyCacheEntry {
  sig: FileSignature
  key: PublicKey | null
}

const MISSING = 'missing'

function signature(st: Stats): FileSignature {
  return { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs }
}

/** Compared field by field: trusted() runs on every peer request, twice for a held one. */
function unchanged(sig: FileSignature | typeof MISSING | null, st: Stats | null): boolean {
  if (sig === null) return false
  if (st === null || sig === MISSING) return st === null && sig === MISSING
  return sig.ino === st.ino && sig.size === st.size && sig.mtimeMs === st.mtimeMs && sig.ctimeMs === st.ctimeMs
}

/** What trusted() answers: built once per table and key, frozen (every caller shares it). */
type TrustedView = Readonly<{ entry: Readonly<PeerEntry>; key: PublicKey }>

function trustedView(entry: PeerEntry, key: PublicKey): TrustedView {
  const { key: _, ...copy } = copyRecord(entry, key)
  if (Array.isArray(copy.url)) Object.freeze(copy.url)
  Object.freeze(copy.scope)
  return Object.freeze({ entry: Object.freeze(copy), key })
}

function copyRecord(entry: PeerEntry, key: PublicKey | null): PeerRecord {
  return { id: entry.id, name: entry.name, url: normalizePeerUrl(entry.url), sync: entry.sync, scope: [...entry.scope], ...liveKey(entry), key }
}

/** `live` is stored only when false (the default is true). */
function liveKey(entry: PeerEntry): { live?: false } {
  return entry.live === false ? { live: false } : {}
}

function sameEntry(a: PeerEntry, b: PeerEntry): boolean {
  return (
    (a.live !== false) === (b.live !== false) &&
    a.name === b.name &&
    JSON.stringify(a.url) === JSON.stringify(b.url) &&
    a.sync === b.sync &&
    a.scope.length === b.scope.length &&
    a.scope.every((g, i) => g === b.scope[i])
  )
}

function peerExists(existing: PeerEntry, sameKey: boolean): PeerExists {
  const short = shortId(existing.id)
  const what = sameKey ? 'with other settings' : 'with a different key'
  return new PeerExists(
    `peer ${short}${existing.name ? ` (${JSON.stringify(existing.name)})` : ''} is already paired; this handshake adds it ${what}. ` +
      `To change its URL, scope or name run \`mazemaker peer set ${short} …\`; to replace it (key included) add it again with --replace (API: "replace": true)`,
  )
}

export class PeerRegistry {
  readonly #paths: HomePaths
  readonly #selfId: PodId
  readonly #log: Logger
  #peersSig: FileSignature | typeof MISSING | null = null
  /** Last good peers.toml content, by id (insertion order = file order). */
  #entries = new Map<PodId, PeerEntry>()
  /** Why peers.toml is currently unusable ("line 3, column 5: …"), or null. */
  #problem: string | null = null
  #loggedProblem: string | null = null
  #keys = new Map<PodId, KeyCacheEntry>()
  /** trusted()'s answers, dropped whenever the table or a key is read again. */
  #views = new Map<PodId, TrustedView>()
  /** peers.toml was looked at in this turn of the event loop for a batch (trustedInBatch). */
  #tableCheckedThisTurn = false
  /** The key directory, normalised, with its trailing separator: a key file's path is this + id + `.key`. */
  readonly #keyPrefix: string

  constructor(opts: { paths: HomePaths; selfId: PodId; log: Logger }) {
    this.#paths = opts.paths
    this.#keyPrefix = join(opts.paths.peerKeyDir, 'k').slice(0, -1)
    this.#selfId = opts.selfId
    this.#log = opts.log
  }

  /** Every peer in peers.toml (the last good copy if it is broken now), with its key or null. */
  list(): { peers: PeerRecord[]; error: string | null } {
    this.#refresh()
    const peers = [...this.#entries.values()].map((e) => copyRecord(e, this.#keyFor(e.id)))
    return { peers, error: this.#errorText() }
  }

  /** list()'s error alone, without copying every record (a hub's live views ask it per change). */
  listError(): string | null {
    this.#refresh()
    return this.#errorText()
  }

  get(id: string): PeerRecord | null {
    if (!isPodId(id)) return null
    this.#refresh()
    const entry = this.#entries.get(id)
    return entry ? copyRecord(entry, this.#keyFor(id)) : null
  }

  /**
   * The relationship with `id` if it exists right now: its table (in the last good peers.toml)
   * and a valid key file. Called on every inbound peer request.
   */
  trusted(id: string): TrustedView | null {
    if (!isPodId(id)) return null
    this.#refresh()
    return this.#trustedIn(id)
  }

  /**
   * trusted() for requests answered together, in one turn of the event loop (the held
   * long-polls one commit wakes): peers.toml is looked at once for all of them, as if all were
   * checked at that moment, and each key file on every call. Every other caller, and the next
   * turn's batch, sees a hand edit of the table at once.
   */
  trustedInBatch(id: string): TrustedView | null {
    if (!this.#tableCheckedThisTurn) {
      this.#tableCheckedThisTurn = true
      setImmediate(() => {
        this.#tableCheckedThisTurn = false
      })
      return this.trusted(id)
    }
    if (!isPodId(id)) return null
    return this.#trustedIn(id)
  }

  /** The relationship by the table as last read and the key file as it is now. */
  #trustedIn(id: PodId): TrustedView | null {
    const entry = this.#entries.get(id)
    if (!entry) return null
    const key = this.#keyFor(id)
    if (!key) return null
    let view = this.#views.get(id)
    if (view?.key !== key) this.#views.set(id, (view = trustedView(entry, key)))
    return view
  }

  /**
   * Adds a peer. An id we already pair with is refused (PeerExists, 409) unless `replace` is
   * set: then the key is replaced and the given fields updated, and a key change is logged at
   * warn. Re-adding exactly what is there (same key, same settings: a retried add) changes
   * nothing and succeeds, so a double-click or a retry after a timeout is harmless.
   */
  add(input: PeerInput, opts: { replace?: boolean } = {}): PeerRecord {
    this.#refreshForWrite()
    const id = parsePodId(input.id)
    if (id === this.#selfId) throw new BadInput('cannot add this pod as its own peer')
    const key = parsePublicKey(input.key)
    const existing = this.#entries.get(id)
    const entry: PeerEntry = {
      id,
      name: input.name ?? existing?.name ?? '',
      url: normalizePeerUrl(input.url ?? existing?.url ?? ''),
      sync: input.sync ?? existing?.sync ?? true,
      scope: input.scope !== undefined ? normalizeScope(input.scope) : existing ? [...existing.scope] : [...NEW_PEER_SCOPE],
      ...(existing ? liveKey(existing) : {}),
    }
    checkPeerEntry(entry)
    if (existing) {
      const oldKey = this.#keyFor(id)
      const sameKey = oldKey === key
      if (sameKey && sameEntry(existing, entry)) return copyRecord(existing, oldKey)
      if (!opts.replace) throw peerExists(existing, sameKey)
      if (!sameKey) {
        // Never the key bytes: the short id says which relationship now trusts another key.
        this.#log.warn({
          op: 'peer_add',
          peer: shortId(id),
          msg: oldKey ? 'replaced the key of an existing peer (--replace)' : 'gave a revoked peer a key again (--replace)',
        })
      }
    }
    const next = new Map(this.#entries)
    next.set(id, entry)
    const text = formatPeersToml([...next.values()], this.#selfId)
    // Key first: a new relationship only becomes live once its table is written too.
    ensurePrivateDir(this.#paths.peerKeyDir, 'peer-keys directory')
    writeFileAtomic(this.#keyPath(id), `${key}\n`, 0o600)
    this.#write(text)
    return copyRecord(entry, this.#keyFor(id))
  }

  update(id: string, patch: PeerPatch): PeerRecord {
    this.#refreshForWrite()
    const peerId = parsePodId(id)
    const existing = this.#entries.get(peerId)
    if (!existing) throw new NotFound(`no peer ${peerId} in ${this.#paths.peersToml}`)
    const entry: PeerEntry = {
      id: peerId,
      name: patch.name ?? existing.name,
      url: normalizePeerUrl(patch.url ?? existing.url),
      sync: patch.sync ?? existing.sync,
      scope: patch.scope !== undefined ? normalizeScope(patch.scope) : [...existing.scope],
      ...liveKey(patch.live === undefined ? existing : { ...existing, live: patch.live }),
    }
    checkPeerEntry(entry)
    const next = new Map(this.#entries)
    next.set(peerId, entry)
    this.#write(formatPeersToml([...next.values()], this.#selfId))
    return copyRecord(entry, this.#keyFor(peerId))
  }

  /** Deletes the key file and the table; true if either existed. */
  remove(id: string): boolean {
    this.#refreshForWrite()
    if (!isPodId(id)) return false
    let existed = false
    // Key file first: that alone revokes the peer, even if the rewrite below failed.
    try {
      unlinkSync(this.#keyPath(id))
      existed = true
    } catch (err) {
      if (!isMissing(err)) throw err
    }
    this.#keys.delete(id)
    // Its secret headers go with it: a later peer of the same id must not inherit them.
    try {
      unlinkSync(join(this.#paths.peerHeadersDir, `${id}.toml`))
    } catch (err) {
      if (!isMissing(err)) throw err
    }
    if (this.#entries.has(id)) {
      const next = new Map(this.#entries)
      next.delete(id)
      this.#write(formatPeersToml([...next.values()], this.#selfId))
      existed = true
    }
    return existed
  }

  #keyPath(id: PodId): string {
    // Only ever called with a checked PodId (hex digits and dashes), so the name cannot leave the
    // directory and needs no normalising: join() on every peer request was a sixth of its stats' cost.
    return `${this.#keyPrefix}${id}.key`
  }

  #errorText(): string | null {
    if (this.#problem === null) return null
    return `peers.toml at ${this.#paths.peersToml} does not parse (${this.#problem}); the pod keeps using the last good copy`
  }

  /** Re-reads peers.toml if it changed; on failure keeps the last good entries. */
  #refresh(): void {
    const path = this.#paths.peersToml
    let st: Stats | null
    try {
      st = statOrNull(path)
    } catch (err) {
      this.#fail(`cannot stat it: ${(err as Error).message}`, null)
      return
    }
    if (unchanged(this.#peersSig, st)) return
    const sig = st ? signature(st) : MISSING
    this.#peersSig = sig
    this.#views.clear()
    if (!st) {
      // No file means no peers (deleting it removes every relationship).
      this.#setEntries([])
      return
    }
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (err) {
      this.#fail(`cannot read it: ${(err as Error).message}`, sig)
      return
    }
    try {
      this.#setEntries(parsePeersToml(text, this.#selfId))
    } catch (err) {
      this.#fail((err as Error).message, sig)
    }
  }

  #setEntries(entries: PeerEntry[]): void {
    this.#entries = new Map(entries.map((e) => [e.id, e]))
    for (const id of this.#keys.keys()) if (!this.#entries.has(id)) this.#keys.delete(id)
    if (this.#problem !== null) this.#log.info({ op: 'peers', path: this.#paths.peersToml, msg: 'peers.toml is valid again' })
    this.#problem = null
    this.#loggedProblem = null
  }

  #fail(problem: string, sig: FileSignature | typeof MISSING | null): void {
    this.#peersSig = sig
    this.#problem = problem
    // Once per distinct error, not once per request.
    if (problem !== this.#loggedProblem) {
      this.#loggedProblem = problem
      this.#log.warn({ op: 'peers', err: 'bad_peers_toml', path: this.#paths.peersToml, msg: problem })
    }
  }

  /** Like #refresh, but refuses to go on while peers.toml is broken: a hand edit is never overwritten. */
  #refreshForWrite(): void {
    this.#refresh()
    if (this.#problem !== null) {
      throw new Conflict(`peers.toml at ${this.#paths.peersToml} does not parse (${this.#problem}); fix or remove it first`)
    }
  }

  #write(text: string): void {
    writeFileAtomic(this.#paths.peersToml, text, 0o600)
    this.#peersSig = null
    this.#refresh()
  }

  /** The peer's public key if its key file exists and is valid now; re-read only when it changed. */
  #keyFor(id: PodId): PublicKey | null {
    const path = this.#keyPath(id)
    let st: Stats | null
    try {
      st = statOrNull(path)
    } catch {
      return null
    }
    if (!st) {
      this.#keys.delete(id)
      return null
    }
    const cached = this.#keys.get(id)
    if (cached && unchanged(cached.sig, st)) return cached.key
    const key = this.#readKey(id, path, st)
    this.#keys.set(id, { sig: signature(st), key })
    this.#views.delete(id)
    return key
  }

  /** Reads a key file; a bad one counts as absent (revoked) and is logged once per change. */
  #readKey(id: PodId, path: string, st: Stats): PublicKey | null {
    const warn = (msg: string) => this.#log.warn({ op: 'peers', peer: shortId(id), err: 'bad_peer_key', path, msg })
    if (!st.isFile()) {
      warn('not a regular file; the peer is treated as revoked')
      return null
    }
    // Public keys are not secret, but a key file others can write lets them replace a peer.
    if (st.mode & 0o022) {
      warn(`mode ${modeText(st.mode)} is writable by group/others; run: chmod 600 ${path}`)
      return null
    }
    try {
      const text = readFileSync(path, 'utf8').trim()
      if (isPublicKey(text)) return text
      warn('not a 43-character base64url public key; the peer is treated as revoked')
    } catch (err) {
      if (!isMissing(err)) warn(`cannot read it: ${(err as Error).message}`)
    }
    return null
  }
}
