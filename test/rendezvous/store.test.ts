import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Database } from 'bun:sqlite'
import { FakeClock } from '../../src/lib/clock'
import { Conflict, PodError } from '../../src/lib/errors'
import { openRendezvousStore, sha256Hex, type RendezvousStore } from '../../src/rendezvous/store'
import { BINDING_RETENTION_MS, PURGE_INTERVAL_MS, RECORD_TTL_MS } from '../../src/rendezvous/constants'

const KEY_A = 'A'.repeat(43)
const KEY_B = 'B'.repeat(43)
const peerId = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`

let dir: string
let clock: FakeClock
let db: RendezvousStore

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mzm-rv-store-'))
  clock = new FakeClock()
  db = openRendezvousStore(join(dir, 'rendezvous.db'), clock)
})

afterEach(() => {
  db.close()
  rmSync(dir, { recursive: true, force: true })
})

/** Every registration signs a newer ts than the one before (the store refuses any other). */
let lastTs = 1_000
function reg(n: number, key = KEY_A, tokenId = 't', ts = ++lastTs) {
  return db.register({ peer_id: peerId(n), url: `http://10.0.0.${n % 250}:8765`, key_hash: sha256Hex(key), token_id: tokenId, ts })
}

describe('tokens', () => {
  test('create returns the secret once; only its hash is stored; list and revoke', () => {
    const a = db.createToken('alice')
    const b = db.createToken('')
    expect(a.token).toMatch(/^mzr_[A-Za-z0-9_-]{43}$/)
    expect(a.id).not.toBe(b.id)
    expect(db.authenticate(a.token)).toBe(a.id)
    expect(db.authenticate(b.token)).toBe(b.id)

    const raw = new Database(join(dir, 'rendezvous.db'), { readonly: true })
    const dump = JSON.stringify(raw.query('SELECT * FROM tokens').all())
    raw.close()
    expect(dump).not.toContain(a.token.slice(4))
    expect(dump).toContain(sha256Hex(a.token))

    const listed = db.listTokens()
    expect(listed).toHaveLength(2)
    expect(listed.find((t) => t.id === a.id)).toEqual({
      id: a.id,
      label: 'alice',
      created_at: new Date(clock.now()).toISOString(),
      revoked_at: null,
      registrations: 0,
    })
    expect(JSON.stringify(listed)).not.toContain(a.token)

    expect(db.revokeToken(a.id)).toBe(true)
    expect(db.revokeToken(a.id)).toBe(true) // idempotent
    expect(db.revokeToken('nope')).toBe(false)
    expect(db.authenticate(a.token)).toBeNull()
    expect(db.authenticate(b.token)).toBe(b.id)
    expect(db.listTokens().find((t) => t.id === a.id)?.revoked_at).toBe(new Date(clock.now()).toISOString())
  })

  test('authenticate refuses malformed and unknown secrets', () => {
    expect(db.authenticate('')).toBeNull()
    expect(db.authenticate('mzr_short')).toBeNull()
    expect(db.authenticate('mzr_' + 'x'.repeat(43))).toBeNull()
  })

  test('labels are bounded and printable', () => {
    expect(() => db.createToken('x'.repeat(201))).toThrow(/over 200/)
    expect(() => db.createToken('a\nb')).toThrow(/control/)
  })

  test('revoking a token drops its registrations at once and frees their ids', () => {
    const t = db.createToken('t')
    db.register({ peer_id: peerId(1), url: 'http://a:1', key_hash: sha256Hex(KEY_A), token_id: t.id, ts: ++lastTs })
    expect(db.listTokens()[0]!.registrations).toBe(1)
    db.revokeToken(t.id)
    expect(db.lookup(peerId(1), KEY_A)).toBeNull()
    expect(db.count()).toBe(0)
    expect(reg(1, KEY_B).created).toBe(true)
  })
})

describe('registrations', () => {
  test('register then lookup; refresh extends expiry', () => {
    const first = reg(1)
    expect(first).toEqual({ peer_id: peerId(1), url: 'http://10.0.0.1:8765', expires_at: new Date(clock.now() + RECORD_TTL_MS).toISOString(), created: true })
    expect(db.lookup(peerId(1), KEY_A)).toEqual({ peer_id: peerId(1), url: 'http://10.0.0.1:8765', expires_at: first.expires_at })
    clock.advance(60_000)
    expect(reg(1).created).toBe(false)
    expect(db.lookup(peerId(1), KEY_A)?.expires_at).toBe(new Date(clock.now() + RECORD_TTL_MS).toISOString())
  })

  test('lookup is null alike for unknown id, wrong key and expired record', () => {
    reg(1)
    expect(db.lookup(peerId(2), KEY_A)).toBeNull()
    expect(db.lookup(peerId(1), KEY_B)).toBeNull()
    clock.advance(RECORD_TTL_MS - 1)
    expect(db.lookup(peerId(1), KEY_A)).not.toBeNull()
    clock.advance(1)
    expect(db.lookup(peerId(1), KEY_A)).toBeNull()
  })

  test('the first registration binds the id to its key hash, also after expiry', () => {
    reg(1, KEY_A)
    expect(() => reg(1, KEY_B)).toThrow(Conflict)
    clock.advance(RECORD_TTL_MS + 1)
    expect(() => reg(1, KEY_B)).toThrow(Conflict)
    expect(reg(1, KEY_A).created).toBe(false) // the owner comes back
  })

  test('expired rows lose their URL at the next purge and their binding after the retention', () => {
    reg(1, KEY_A)
    clock.advance(RECORD_TTL_MS + 60_000)
    reg(2) // a write runs the purge
    const raw = new Database(join(dir, 'rendezvous.db'), { readonly: true })
    expect(raw.query('SELECT url FROM registrations WHERE peer_id = ?').get(peerId(1))).toEqual({ url: '' })
    raw.close()
    clock.advance(BINDING_RETENTION_MS)
    expect(reg(1, KEY_B).created).toBe(true)
  })

  test('the table is bounded: 503 full, never made room by dropping a binding whose URL expired; bindings past retention go', () => {
    db.close()
    db = openRendezvousStore(join(dir, 'rendezvous.db'), clock, { maxRegistrations: 3 })
    reg(1)
    reg(2)
    clock.advance(RECORD_TTL_MS + 1) // 1 and 2 expire: their bindings stay
    reg(3)
    let err: unknown
    try {
      reg(4)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(PodError)
    expect((err as PodError).code).toBe('full')
    expect(() => reg(1, KEY_B)).toThrow(Conflict) // 1 is still bound to its key
    expect(reg(3).created).toBe(false) // refreshes still work when full
    clock.advance(RECORD_TTL_MS + BINDING_RETENTION_MS) // all three past retention: the next write purges them
    expect(reg(4).created).toBe(true)
    expect(db.count()).toBe(1)
  })

  test('ts only moves forward per id, whatever the token: a replay or an older registration is stale', () => {
    reg(1, KEY_A, 'a', 5_000)
    for (const [tokenId, ts] of [
      ['a', 5_000],
      ['b', 5_000],
      ['b', 4_999],
    ] as const) {
      let err: unknown
      try {
        reg(1, KEY_A, tokenId, ts)
      } catch (e) {
        err = e
      }
      expect((err as PodError).code).toBe('stale')
    }
    expect(db.binding(peerId(1))).toMatchObject({ token_id: 'a', last_ts: 5_000 })
    expect(reg(1, KEY_A, 'b', 5_001).created).toBe(false) // a newer one moves it
  })

  test('an expired URL is not an expired binding: kept 30 days past it, then free', () => {
    reg(1, KEY_A)
    clock.advance(RECORD_TTL_MS + BINDING_RETENTION_MS - 60_000)
    expect(BINDING_RETENTION_MS).toBe(30 * 24 * 3_600_000)
    expect(() => reg(1, KEY_B)).toThrow(Conflict)
    expect(db.lookup(peerId(1), KEY_A)).toBeNull() // no URL to hand out, though
    clock.advance(120_000)
    expect(reg(1, KEY_B).created).toBe(true)
  })

  test('release: only for the bound key, only with a newer ts; afterwards the id binds anew', () => {
    reg(1, KEY_A, 't', 7_000)
    expect(() => db.release(peerId(2), sha256Hex(KEY_A), 7_001)).toThrow(/no binding/)
    expect(() => db.release(peerId(1), sha256Hex(KEY_B), 7_001)).toThrow(Conflict)
    expect(() => db.release(peerId(1), sha256Hex(KEY_A), 7_000)).toThrow(/already accepted/)
    db.release(peerId(1), sha256Hex(KEY_A), 7_001)
    expect(db.binding(peerId(1))).toBeNull()
    expect(reg(1, KEY_B).created).toBe(true)
  })

  test('a database from before last_ts gains the column; its rows take any newer ts', () => {
    db.close()
    const path = join(dir, 'old.db')
    const old = new Database(path)
    old.exec(`CREATE TABLE registrations (peer_id TEXT PRIMARY KEY, url TEXT NOT NULL, key_hash TEXT NOT NULL, expires_at INTEGER NOT NULL, token_id TEXT NOT NULL) STRICT, WITHOUT ROWID;
      CREATE TABLE tokens (id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, label TEXT NOT NULL, created_at INTEGER NOT NULL, revoked_at INTEGER) STRICT;`)
    old.query('INSERT INTO registrations VALUES (?, ?, ?, ?, ?)').run(peerId(1), 'http://a:1', sha256Hex(KEY_A), clock.now() + RECORD_TTL_MS, 't')
    old.close()
    db = openRendezvousStore(path, clock)
    expect(db.binding(peerId(1))).toMatchObject({ last_ts: 0 })
    expect(reg(1, KEY_A).created).toBe(false)
  })

  test("the purge's URL wipe reads only rows that still have a URL, also in a database from before its index", () => {
    db.close()
    const path = join(dir, 'old.db')
    const old = new Database(path)
    old.exec(`CREATE TABLE registrations (peer_id TEXT PRIMARY KEY, url TEXT NOT NULL, key_hash TEXT NOT NULL, expires_at INTEGER NOT NULL, token_id TEXT NOT NULL, last_ts INTEGER NOT NULL DEFAULT 0) STRICT, WITHOUT ROWID;
      CREATE INDEX registrations_expires_at ON registrations(expires_at);
      CREATE TABLE tokens (id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, label TEXT NOT NULL, created_at INTEGER NOT NULL, revoked_at INTEGER) STRICT;`)
    old.query('INSERT INTO registrations VALUES (?, ?, ?, ?, ?, 1)').run(peerId(1), 'http://a:1', sha256Hex(KEY_A), clock.now() - 1, 't')
    old.close()
    db = openRendezvousStore(path, clock)
    const raw = new Database(path, { readonly: true })
    expect(raw.query('SELECT url FROM registrations').get()).toEqual({ url: '' }) // the open's purge wiped it
    // The store's wipe statement: through registrations_expires_at it would read every retained
    // row of a full table (45-57 ms a purge at 100k, bench/rendezvous-purge.bench.ts).
    const plan = raw.query<{ detail: string }, [number]>("EXPLAIN QUERY PLAN UPDATE registrations SET url = '' WHERE expires_at <= ? AND url <> ''").all(0)
    raw.close()
    expect(plan.map((p) => p.detail)).toEqual(['SEARCH registrations USING INDEX registrations_url_expires_at (expires_at<?)'])
  })

  test('the row count behind `full` follows purges, revokes and another connection writing', () => {
    db.close()
    const path = join(dir, 'rendezvous.db')
    db = openRendezvousStore(path, clock, { maxRegistrations: 2 })
    const full = () => expect(() => reg(9)).toThrow(/maximum of 2/)
    const t = db.createToken('t')
    db.register({ peer_id: peerId(1), url: 'http://a:1', key_hash: sha256Hex(KEY_A), token_id: t.id, ts: ++lastTs })
    reg(2)
    full()
    db.revokeToken(t.id) // drops 1
    expect(reg(3).created).toBe(true)
    full()
    clock.advance(RECORD_TTL_MS + BINDING_RETENTION_MS) // 2 and 3 past retention: the next write's purge drops them
    expect(reg(4).created).toBe(true)
    expect(reg(5).created).toBe(true)
    full()
    // The CLI revokes a token through its own connection while the service runs: seen at the next purge.
    const u = db.createToken('u')
    clock.advance(PURGE_INTERVAL_MS)
    db.register({ peer_id: peerId(4), url: 'http://a:1', key_hash: sha256Hex(KEY_A), token_id: u.id, ts: ++lastTs })
    const cli = openRendezvousStore(path, clock)
    cli.revokeToken(u.id) // drops 4
    cli.close()
    clock.advance(PURGE_INTERVAL_MS)
    expect(reg(6).created).toBe(true)
    full()
    expect(db.count()).toBe(2)
  })

  test('a register refused after its purge leaves the count right: the purge was undone with it, and runs again', () => {
    db.close()
    db = openRendezvousStore(join(dir, 'rendezvous.db'), clock, { maxRegistrations: 4 })
    reg(1)
    reg(2)
    reg(3)
    clock.advance(RECORD_TTL_MS + BINDING_RETENTION_MS - 1)
    const ts4 = ++lastTs
    reg(4, KEY_A, 't', ts4) // purges (nothing past retention yet): the table is full
    clock.advance(PURGE_INTERVAL_MS) // 1, 2 and 3 past retention; 4 live
    // This register's purge deletes 1, 2 and 3, then it is refused (a replayed ts): both are rolled back.
    expect(() => reg(4, KEY_A, 't', ts4)).toThrow(/replays are refused/)
    expect(db.count()).toBe(4)
    for (let n = 5; n <= 10; n++) {
      try {
        reg(n)
      } catch (err) {
        expect((err as PodError).code).toBe('full')
      }
      expect(db.count()).toBeLessThanOrEqual(4)
    }
    expect(db.count()).toBe(4) // 4, and three of the new ones once the purge ran again
  })

  test("a register refused after its purge counted in another connection's revoke: the next purge counts it in again", () => {
    db.close()
    const path = join(dir, 'rendezvous.db')
    db = openRendezvousStore(path, clock, { maxRegistrations: 2 })
    const u = db.createToken('u')
    db.register({ peer_id: peerId(1), url: 'http://a:1', key_hash: sha256Hex(KEY_A), token_id: u.id, ts: ++lastTs })
    const ts2 = ++lastTs
    reg(2, KEY_A, 't', ts2)
    const cli = openRendezvousStore(path, clock)
    cli.revokeToken(u.id) // drops 1, through the CLI's own connection
    cli.close()
    clock.advance(PURGE_INTERVAL_MS)
    expect(() => reg(2, KEY_A, 't', ts2)).toThrow(/replays are refused/) // purges, counts the revoke in, is rolled back
    expect(reg(3).created).toBe(true) // not `full`: the table holds 2 and 3
    expect(db.count()).toBe(2)
  })

  test('a token holds at most maxIdsPerToken ids, retained ones included; refreshes always pass', () => {
    db.close()
    db = openRendezvousStore(join(dir, 'rendezvous.db'), clock, { maxIdsPerToken: 2 })
    reg(1, KEY_A, 'a')
    reg(2, KEY_A, 'a')
    const tooMany = () => reg(3, KEY_A, 'a')
    expect(tooMany).toThrow(/already holds 2 peer ids/)
    try {
      tooMany()
    } catch (e) {
      expect((e as PodError).code).toBe('too_many_ids')
    }
    expect(reg(1, KEY_A, 'a').created).toBe(false) // a heartbeat of a held id
    expect(reg(3, KEY_A, 'b').created).toBe(true) // another token has its own allowance
    // Expired but retained for its binding: still counts (a token's footprint stays bounded).
    clock.advance(RECORD_TTL_MS + 1)
    expect(tooMany).toThrow(/already holds 2/)
    // Moving an id to another token counts for that token.
    reg(4, KEY_A, 'b')
    expect(() => reg(1, KEY_A, 'b')).toThrow(/already holds 2/)
    // Past the retention the bindings go, and with them the count.
    clock.advance(BINDING_RETENTION_MS)
    reg(5, KEY_A, 'c') // a write runs the purge
    expect(reg(6, KEY_A, 'a').created).toBe(true)
  })

  test('the database and its WAL files are 0600 from creation, also under umask 0', () => {
    const old = process.umask(0)
    try {
      const path = join(dir, 'other.db')
      const other = openRendezvousStore(path, clock)
      other.createToken('x')
      for (const f of [path, `${path}-wal`, `${path}-shm`]) expect(statSync(f).mode & 0o777).toBe(0o600)
      other.close()
    } finally {
      process.umask(old)
    }
  })

  test('data survives reopening', () => {
    const t = db.createToken('keep')
    reg(1)
    db.close()
    db = openRendezvousStore(join(dir, 'rendezvous.db'), clock)
    expect(db.authenticate(t.token)).toBe(t.id)
    expect(db.lookup(peerId(1), KEY_A)?.url).toBe('http://10.0.0.1:8765')
  })
})
