/**
 * The rendezvous database (SQLite, WAL, file 0600): registration tokens and registrations.
 * It stores only what the contract allows — (peer_id, url, key_hash, expires_at, token id) per
 * pod and a SHA-256 of each token, never the token itself — and stays bounded.
 *
 * Revocation is immediate: revoking a token deletes the registrations it last refreshed, so
 * lookups stop returning them at once and their ids are free to bind again.
 *
 * Replays and squatting (contract Part 1c): a registration's `ts` must be greater than the last
 * accepted one for its id, whatever the token (409 `stale`); a binding (id → key hash) outlives
 * its URL, until its key's holder releases it or BINDING_RETENTION_MS pass without a heartbeat.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { closeSync, existsSync, openSync } from 'node:fs'
import type { Clock } from '../lib/clock'
import { BadInput, Conflict, NotFound, PodError } from '../lib/errors'
import { toBase64url } from '../lib/base64url'
import { openSqlite, type SqliteDatabase } from '../runtime'
import { BINDING_RETENTION_MS, MAX_IDS_PER_TOKEN, MAX_LABEL_CHARS, MAX_REGISTRATIONS, PURGE_INTERVAL_MS, RECORD_TTL_MS } from './constants'

const TOKEN_PREFIX = 'mzr_'
const TOKEN_RE = /^mzr_[A-Za-z0-9_-]{43}$/
/** Compared against when a peer id is unknown, so unknown and wrong-key lookups cost the same. */
const DUMMY_HASH = '0'.repeat(64)

const SCHEMA = `
CREATE TABLE IF NOT EXISTS tokens (
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  label TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
) STRICT;
CREATE TABLE IF NOT EXISTS registrations (
  peer_id TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  key_hash TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  token_id TEXT NOT NULL,
  last_ts INTEGER NOT NULL DEFAULT 0
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS registrations_expires_at ON registrations(expires_at);
CREATE INDEX IF NOT EXISTS registrations_token_id ON registrations(token_id);
-- The rows whose URL a purge still has to wipe: the retained, already wiped ones (nearly all of a
-- full table) stay out of it. Built on the first open of an older database.
CREATE INDEX IF NOT EXISTS registrations_url_expires_at ON registrations(expires_at) WHERE url <> '';
`

export interface TokenInfo {
  id: string
  label: string
  created_at: string
  revoked_at: string | null
  /** Live (unexpired) registrations this token last refreshed. */
  registrations: number
}

export interface Registration {
  peer_id: string
  url: string
  expires_at: string
}

export interface RegisterInput {
  peer_id: string
  url: string
  key_hash: string
  token_id: string
  /** The registration's own `ts` (unix seconds): must be greater than the last one accepted for the id. */
  ts: number
}

export interface RendezvousStore {
  /** Issues a token; the secret is returned here once and only its hash is stored. */
  createToken(label: string): { id: string; token: string }
  listTokens(): TokenInfo[]
  /** Revokes a token and drops its registrations at once. False when no such token exists. */
  revokeToken(id: string): boolean
  /** The id of the active token with this secret, or null (unknown, malformed or revoked). */
  authenticate(token: string): string | null
  /**
   * Creates or refreshes a registration (expires RECORD_TTL_MS from now). Throws Conflict when the
   * id is bound to another key hash, PodError `too_many_ids` when the token already holds its
   * maximum of ids (a refresh of an id it holds always passes), `full` when the table is full.
   * The caller has verified the proof of possession of the key behind `key_hash`.
   */
  register(input: RegisterInput): Registration & { created: boolean }
  /**
   * Ends the binding of `peerId` (its key's holder asked, with a proof the caller verified):
   * NotFound when there is none, Conflict for another key hash, `stale` for a `ts` not newer.
   */
  release(peerId: string, keyHash: string, ts: number): void
  /** The row of `peerId` as stored (url "" once expired), or null: tells a heartbeat from a move. */
  binding(peerId: string): { url: string; key_hash: string; token_id: string; expires_at: number; last_ts: number } | null
  /** The live registration of `peerId` if sha256(key) matches its hash; null otherwise, alike. */
  lookup(peerId: string, key: string): Registration | null
  /** Rows held, live or retained for their binding. */
  count(): number
  close(): void
}

export interface RendezvousStoreOptions {
  /** Table bound; default MAX_REGISTRATIONS. */
  maxRegistrations?: number
  /** Ids one token may hold, live or retained for their binding; default MAX_IDS_PER_TOKEN. */
  maxIdsPerToken?: number
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex')
}

/** Constant-time equality of two hex digests of the same length. */
export function hexEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex')
  const y = Buffer.from(b, 'hex')
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y)
}

interface RegistrationRow {
  url: string
  key_hash: string
  expires_at: number
  token_id: string
  last_ts: number
}

interface TokenRow {
  id: string
  label: string
  created_at: number
  revoked_at: number | null
  registrations: number
}

/**
 * Opens (creating if needed) the rendezvous database at `path`.
 * @example
 *   const db = openRendezvousStore(join(home, 'rendezvous.db'), systemClock)
 *   const { token } = db.createToken('alice home server')
 */
export function openRendezvousStore(path: string, clock: Clock, opts: RendezvousStoreOptions = {}): RendezvousStore {
  const maxRegistrations = opts.maxRegistrations ?? MAX_REGISTRATIONS
  const maxIdsPerToken = opts.maxIdsPerToken ?? MAX_IDS_PER_TOKEN
  createPrivateFile(path)
  const db = openSqlite(path)
  db.exec('PRAGMA journal_mode = WAL')
  db.exec('PRAGMA busy_timeout = 5000') // the CLI (token revoke) writes while the service runs
  db.exec('PRAGMA synchronous = NORMAL') // WAL: a crash loses at most the last heartbeats, which pods resend
  db.exec(SCHEMA)
  addLastTs(db)

  const q = {
    insertToken: db.query('INSERT INTO tokens (id, hash, label, created_at) VALUES (?, ?, ?, ?)'),
    listTokens: db.query<TokenRow, [number]>(
      `SELECT t.id, t.label, t.created_at, t.revoked_at,
        (SELECT count(*) FROM registrations r WHERE r.token_id = t.id AND r.expires_at > ?) AS registrations
       FROM tokens t ORDER BY t.created_at, t.id`,
    ),
    tokenById: db.query<{ id: string }, [string]>('SELECT id FROM tokens WHERE id = ?'),
    // Looking a token up by its SHA-256 leaks nothing useful through timing: an attacker cannot
    // steer the digest of a guess, and the token carries 256 bits of entropy.
    tokenByHash: db.query<{ id: string; revoked_at: number | null }, [string]>('SELECT id, revoked_at FROM tokens WHERE hash = ?'),
    revokeToken: db.query('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
    dropTokenRegistrations: db.query('DELETE FROM registrations WHERE token_id = ?'),
    registration: db.query<RegistrationRow, [string]>('SELECT url, key_hash, expires_at, token_id, last_ts FROM registrations WHERE peer_id = ?'),
    countByToken: db.query<{ n: number }, [string]>('SELECT count(*) AS n FROM registrations WHERE token_id = ?'),
    upsert: db.query(
      `INSERT INTO registrations (peer_id, url, key_hash, expires_at, token_id, last_ts) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (peer_id) DO UPDATE SET url = excluded.url, expires_at = excluded.expires_at, token_id = excluded.token_id, last_ts = excluded.last_ts`,
    ),
    deleteRegistration: db.query('DELETE FROM registrations WHERE peer_id = ?'),
    count: db.query<{ n: number }, []>('SELECT count(*) AS n FROM registrations'),
    deleteStale: db.query('DELETE FROM registrations WHERE expires_at <= ?'),
    // At expiry the URL (where a pod was) goes; the id→key binding stays for BINDING_RETENTION_MS.
    // The planner takes registrations_url_expires_at (`url <> ''` matches its WHERE), so the wipe
    // reads only the rows it wipes; through registrations_expires_at it read every retained row
    // and its table row: 45-57 ms a purge at 100k (bench/rendezvous-purge.bench.ts; the plan is
    // checked in test/rendezvous/store.test.ts).
    wipeExpiredUrls: db.query("UPDATE registrations SET url = '' WHERE expires_at <= ? AND url <> ''"),
    // Moves when another connection commits, never for this one's own commits.
    dataVersion: db.query<{ data_version: number }, []>('PRAGMA data_version'),
  }

  /**
   * Rows in the table, kept by this connection's inserts and deletes: a count(*) reads every row
   * (6-9 ms at 100k, inside a register's transaction). Counted again at a purge when another
   * connection wrote meanwhile (`mazemaker rendezvous token revoke` while the service runs).
   */
  let rows = q.count.get()!.n
  let seenVersion = q.dataVersion.get()!.data_version
  let lastPurgeAt = -Infinity

  const purge = (now: number, retentionMs: number) => {
    const version = q.dataVersion.get()!.data_version
    if (version !== seenVersion) {
      rows = q.count.get()!.n
      seenVersion = version
    }
    rows -= q.deleteStale.run(now - retentionMs).changes
    q.wipeExpiredUrls.run(now)
    lastPurgeAt = now
  }

  /**
   * Runs a write transaction; when it throws, its rollback undid its rows, so what it noted of them
   * (`rows`, the purge it ran, the other connections' writes it counted in) goes back with them. A register refused after its purge (a replay,
   * a key conflict) otherwise left `rows` short of the table by the rows the purge had deleted,
   * for good, and the table grew past maxRegistrations by as many.
   */
  const undoable =
    <A extends unknown[], R>(tx: (...args: A) => R) =>
    (...args: A): R => {
      const before = { rows, lastPurgeAt, seenVersion }
      try {
        return tx(...args)
      } catch (err) {
        ;({ rows, lastPurgeAt, seenVersion } = before)
        throw err
      }
    }

  const register = db.transaction((input: RegisterInput, now: number) => {
    if (now - lastPurgeAt >= PURGE_INTERVAL_MS) purge(now, BINDING_RETENTION_MS)
    const existing = q.registration.get(input.peer_id)
    if (existing && !hexEqual(existing.key_hash, input.key_hash)) {
      throw new Conflict(
        `peer ${input.peer_id} is bound to another key; the binding lapses ${days(BINDING_RETENTION_MS)} days after its last heartbeat, when its key's holder releases it, or when its token is revoked`,
      )
    }
    if (existing && input.ts <= existing.last_ts) throw stale(input.peer_id)
    // Retained rows count too: each token's footprint in the table stays bounded.
    if (existing?.token_id !== input.token_id && q.countByToken.get(input.token_id)!.n >= maxIdsPerToken) {
      throw new PodError('too_many_ids', `this token already holds ${maxIdsPerToken} peer ids (the maximum); ask the rendezvous operator for another token`)
    }
    // Full: refused, never made room by dropping a binding whose URL merely expired (that would
    // let whoever fills the table take over an offline pod's id).
    if (!existing && rows >= maxRegistrations)
      throw new PodError('full', `the rendezvous holds its maximum of ${maxRegistrations} registrations; try again later`)
    const expiresAt = now + RECORD_TTL_MS
    q.upsert.run(input.peer_id, input.url, input.key_hash, expiresAt, input.token_id, input.ts)
    if (!existing) rows++
    return { peer_id: input.peer_id, url: input.url, expires_at: iso(expiresAt), created: !existing }
  })

  const release = db.transaction((peerId: string, keyHash: string, ts: number) => {
    const existing = q.registration.get(peerId)
    if (!existing) throw new NotFound(`peer ${peerId} has no binding here`)
    if (!hexEqual(existing.key_hash, keyHash)) throw new Conflict(`peer ${peerId} is bound to another key`)
    if (ts <= existing.last_ts) throw stale(peerId)
    q.deleteRegistration.run(peerId)
    rows--
  })

  const revoke = db.transaction((id: string, now: number) => {
    if (!q.tokenById.get(id)) return false
    q.revokeToken.run(now, id)
    rows -= q.dropTokenRegistrations.run(id).changes
    return true
  })

  purge(clock.now(), BINDING_RETENTION_MS)

  return {
    createToken(label) {
      if (label.length > MAX_LABEL_CHARS) throw new BadInput(`token label is over ${MAX_LABEL_CHARS} characters`)
      if (/\p{Cc}/u.test(label)) throw new BadInput('token label must not contain control characters')
      const id = randomBytes(6).toString('hex')
      const token = TOKEN_PREFIX + toBase64url(randomBytes(32))
      q.insertToken.run(id, sha256Hex(token), label, clock.now())
      return { id, token }
    },
    listTokens() {
      return q.listTokens.all(clock.now()).map((t) => ({
        id: t.id,
        label: t.label,
        created_at: iso(t.created_at),
        revoked_at: t.revoked_at === null ? null : iso(t.revoked_at),
        registrations: t.registrations,
      }))
    },
    revokeToken: undoable((id: string) => revoke.immediate(id, clock.now())),
    authenticate(token) {
      if (!TOKEN_RE.test(token)) return null
      const row = q.tokenByHash.get(sha256Hex(token))
      return row && row.revoked_at === null ? row.id : null
    },
    register: undoable((input: RegisterInput) => register.immediate(input, clock.now())),
    release: undoable((peerId: string, keyHash: string, ts: number) => release.immediate(peerId, keyHash, ts)),
    binding(peerId) {
      const row = q.registration.get(peerId)
      return row ? { url: row.url, key_hash: row.key_hash, token_id: row.token_id, expires_at: row.expires_at, last_ts: row.last_ts } : null
    },
    lookup(peerId, key) {
      const row = q.registration.get(peerId)
      // Hash and compare even when the id is unknown: unknown, expired and wrong key answer alike.
      const keyMatches = hexEqual(row?.key_hash ?? DUMMY_HASH, sha256Hex(key))
      if (!row || !keyMatches || row.expires_at <= clock.now() || row.url === '') return null
      return { peer_id: peerId, url: row.url, expires_at: iso(row.expires_at) }
    },
    count: () => q.count.get()!.n,
    close: () => db.close(),
  }
}

/** Creates the database file with mode 0600 before SQLite does (SQLite gives -wal/-shm the same mode). */
function createPrivateFile(path: string): void {
  if (path === ':memory:' || existsSync(path)) return
  try {
    closeSync(openSync(path, 'wx', 0o600))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString()
}

function days(ms: number): number {
  return Math.round(ms / 86_400_000)
}

/** A registration (or release) no newer than the last accepted for the id: a replay, or a clock gone back. */
export function stale(peerId: string): PodError {
  return new PodError('stale', `a registration of ${peerId} with this ts or a later one was already accepted: replays are refused; sign with the current time`)
}

/** Databases made before registrations kept their last `ts` gain the column (0: any ts is newer). */
function addLastTs(db: SqliteDatabase): void {
  const columns = db.query<{ name: string }>('PRAGMA table_info(registrations)').all()
  if (!columns.some((c) => c.name === 'last_ts')) db.exec('ALTER TABLE registrations ADD COLUMN last_ts INTEGER NOT NULL DEFAULT 0')
}
