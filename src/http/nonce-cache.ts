/**
 * Remembers request nonces for the replay window, per peer. Memory is bounded without ever
 * forgetting a nonce early: past a peer's cap (or the total cap) new requests are refused
 * (`full`) until old nonces expire. Forgetting instead would let one peer's flood of its own
 * valid requests make another peer's captured request replayable. Only requests with a valid
 * MAC reach the cache, so only a current peer can fill its share.
 *
 * A pod's cache also survives restarts: `NonceCache.open(path)` loads the
 * unexpired nonces of a journal in the home and appends each new one to it before the request
 * is answered, so a request captured before a restart is still a `replay` after it. The nonces
 * accepted in one turn of the event loop go to the file in one write: at the end of the turn, or
 * earlier when any request is answered (flush(), which the serving path calls first; a hub's
 * re-asks are held, and answered turns later). A request is never answered while its nonce is
 * only in memory; one held when the process dies was never answered, so serving it once after
 * the restart serves nothing twice. Refusing every
 * request signed before the pod started was the other option, but it turns away an honest peer
 * whose clock is a little behind ours for up to 300 s after each restart, and still accepts a
 * captured request from a peer whose clock is ahead. The append is a plain write (no fsync): it
 * survives the process dying (kill -9), not the machine losing power within the window.
 */
import { closeSync, constants, openSync, readFileSync, writeSync } from 'node:fs'
import { writeFileAtomic } from '../lib/atomic-file'
import { NONCE_WINDOW_MS } from '../protocol'

/** The contract's replay window: a nonce is remembered this long. */
export const NONCE_TTL_MS = NONCE_WINDOW_MS
/** 20k nonces in 600 s is 33 requests/s sustained; a 100k-memory pull takes 200. */
export const NONCE_PEER_MAX = 20_000
export const NONCE_TOTAL_MAX = 500_000

export type NonceVerdict = 'fresh' | 'replay' | 'full'

export class NonceCache {
  readonly #ttlMs: number
  readonly #perPeerMax: number
  readonly #totalMax: number
  // peer → (nonce → expiry ms). A Map keeps insertion order, which is expiry order.
  readonly #byPeer = new Map<string, Map<string, number>>()
  #total = 0

  #journal: Journal | null = null

  constructor(opts: NonceCacheOptions = {}) {
    this.#ttlMs = opts.ttlMs ?? NONCE_TTL_MS
    this.#perPeerMax = Math.max(1, opts.perPeerMax ?? NONCE_PEER_MAX)
    this.#totalMax = Math.max(1, opts.totalMax ?? NONCE_TOTAL_MAX)
  }

  /**
   * A cache backed by the journal at `path` (0600): loads its unexpired nonces, rewrites it
   * without the expired ones and appends every new nonce from then on. Call close() at shutdown.
   */
  static open(path: string, nowMs: number, opts: NonceCacheOptions = {}): NonceCache {
    const cache = new NonceCache(opts)
    for (const { peer, nonce, expiry } of readJournal(path)) {
      if (expiry <= nowMs) continue
      let seen = cache.#byPeer.get(peer)
      if (!seen) cache.#byPeer.set(peer, (seen = new Map()))
      if (!seen.has(nonce)) cache.#total++
      seen.set(nonce, expiry)
    }
    cache.#journal = new Journal(path)
    cache.#compact()
    return cache
  }

  /**
   * Writes the nonces accepted since the last write to the journal (one write; nothing when none
   * are waiting). Call before answering a request whose nonce was recorded: throws when the write
   * fails, and the answer must not go out then.
   */
  flush(): void {
    this.#journal?.flush()
  }

  /** Writes what is waiting and closes the journal (idempotent); the in-memory cache keeps working. */
  close(): void {
    try {
      this.#journal?.flush()
    } finally {
      this.#journal?.close()
      this.#journal = null
    }
  }

  get size(): number {
    return this.#total
  }

  /** `fresh` (and records it), `replay` when seen within the TTL, `full` when it cannot be remembered. */
  checkAndRecord(peer: string, nonce: string, nowMs: number): NonceVerdict {
    let seen = this.#byPeer.get(peer)
    if (seen) this.#evictExpired(peer, seen, nowMs)
    if (seen?.has(nonce)) return 'replay'
    if (this.#total >= this.#totalMax) {
      for (const [p, s] of this.#byPeer) this.#evictExpired(p, s, nowMs)
      if (this.#total >= this.#totalMax) return 'full'
    }
    if (!seen) this.#byPeer.set(peer, (seen = new Map()))
    if (seen.size >= this.#perPeerMax) return 'full'
    const expiry = nowMs + this.#ttlMs
    // On disk before the request is answered (flush): if the write fails the answer fails (fail
    // closed), rather than going out with a nonce a restart would forget.
    this.#journal?.append(peer, nonce, expiry)
    seen.set(nonce, expiry)
    this.#total++
    if (this.#journal && this.#journal.appended > Math.max(COMPACT_MIN_LINES, 2 * this.#total)) this.#compact()
    return 'fresh'
  }

  /** Rewrites the journal with just the live nonces (atomically) and appends to the new file. */
  #compact(): void {
    const journal = this.#journal
    if (!journal) return
    const lines: string[] = []
    for (const [peer, seen] of this.#byPeer) for (const [nonce, expiry] of seen) lines.push(journalLine(peer, nonce, expiry))
    journal.replace(lines.join(''))
  }

  #evictExpired(peer: string, seen: Map<string, number>, nowMs: number): void {
    for (const [nonce, expiry] of seen) {
      if (expiry > nowMs) break
      seen.delete(nonce)
      this.#total--
    }
    if (seen.size === 0) this.#byPeer.delete(peer)
  }
}

export interface NonceCacheOptions {
  ttlMs?: number
  perPeerMax?: number
  totalMax?: number
}

/** The journal is compacted when it holds this many lines more than twice the live nonces. */
const COMPACT_MIN_LINES = 10_000
const LINE_RE = /^(\d{1,15}) (\S{1,128}) (\S{1,128})$/
const PRINTABLE_RE = /^[\x21-\x7e]{1,128}$/

function journalLine(peer: string, nonce: string, expiry: number): string {
  return `${expiry} ${peer} ${nonce}\n`
}

/** The journal's entries; a missing file is empty, and a torn or foreign line is skipped. */
function readJournal(path: string): { peer: string; nonce: string; expiry: number }[] {
  let text: string
  try {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW)
    try {
      text = readFileSync(fd, 'utf8')
    } finally {
      closeSync(fd)
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  const out: { peer: string; nonce: string; expiry: number }[] = []
  const lines = text.split('\n')
  lines.pop() // after the last newline: empty, or a line torn by a crash mid-write
  for (const line of lines) {
    const m = LINE_RE.exec(line)
    if (m) out.push({ expiry: Number(m[1]), peer: m[2]!, nonce: m[3]! })
  }
  return out
}

/** Append-only file of `<expiry-ms> <peer-id> <nonce>` lines, written once per turn of the event loop at most. */
class Journal {
  #fd: number | null = null
  /** Lines appended since the file was last rewritten (written or waiting). */
  appended = 0
  /** Lines not written yet, and whether a write at the end of this turn is scheduled. */
  #waiting = ''
  #scheduled = false

  constructor(readonly path: string) {}

  append(peer: string, nonce: string, expiry: number): void {
    // Callers pass parsed pod ids and nonces; anything else could not be read back.
    if (!PRINTABLE_RE.test(peer) || !PRINTABLE_RE.test(nonce)) throw new Error('nonce journal: peer and nonce must be 1..128 printable ASCII characters')
    this.#waiting += journalLine(peer, nonce, expiry)
    this.appended++
    if (this.#scheduled) return
    this.#scheduled = true
    setImmediate(() => {
      this.#scheduled = false
      try {
        this.flush()
      } catch {
        // Kept waiting: the next answer's flush() writes it or fails.
      }
    })
  }

  /**
   * Writes the waiting lines; on failure what was not written stays waiting (and the caller's
   * answer fails), so a line torn by a failed write is completed by the next one.
   */
  flush(): void {
    if (this.#waiting === '') return
    const bytes = Buffer.from(this.#waiting, 'latin1') // printable ASCII only (append): one byte per character
    let off = 0
    try {
      const fd = (this.#fd ??= openAppend(this.path))
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off)
    } finally {
      this.#waiting = this.#waiting.slice(off)
    }
  }

  /** The file rewritten with `text`, which holds every live nonce (the waiting ones too). */
  replace(text: string): void {
    this.close()
    writeFileAtomic(this.path, text, 0o600)
    this.#waiting = ''
    this.appended = 0
  }

  close(): void {
    if (this.#fd !== null) closeSync(this.#fd)
    this.#fd = null
  }
}

function openAppend(path: string): number {
  return openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600)
}
