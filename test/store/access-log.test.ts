import { describe, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { ACCESS_LOG_RETENTION_MS, createServedLog } from '../../src/store/access-log'
import { openDatabase } from '../../src/store/database'
import { MIGRATIONS } from '../../src/store/migrations'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import type { Store, WireEntry } from '../../src/store'
import { PEER_A, PEER_B, storeEachTest, wire, type TempStores } from './_temp-store'

let t: TempStores
let store: Store
storeEachTest((fresh) => ({ t, store } = fresh))

const rows = () => {
  const db = new Database(t.path, { readonly: true })
  try {
    return (db.query('SELECT count(*) AS n FROM access_log').get() as { n: number }).n
  } finally {
    db.close()
  }
}

describe('access log', () => {
  test('a served page records time, count, tombstones, first and last id, and the scope asked with', () => {
    const a = store.remember({ label: 'public:a', content: 'one' }).id
    const b = store.remember({ label: 'public:b', content: 'two' }).id
    store.forget(b)
    const page = store.changesSince(null, ['public:*'], 100)
    store.recordServedPage(PEER_A, page.memories, ['public:*'])
    expect(store.accessLog(PEER_A)).toEqual({
      entries: [{ at: new Date(t.clock.now()).toISOString(), count: 2, deleted: 1, first_id: a, last_id: b }],
      cursor: null,
    })
    expect(store.peerState(PEER_A).served_total).toBe(2)
    expect(store.servedScope(PEER_A)).toEqual(['public:*'])
    expect(store.accessLog(PEER_B).entries).toEqual([])
    expect(store.servedScope(PEER_B)).toBeNull()
  })

  test('empty polls record nothing (no write at all)', () => {
    store.recordServedPage(PEER_A, [], ['*'])
    expect(rows()).toBe(0)
    expect(store.peerState(PEER_A).served_total).toBe(0)
  })

  test('pages served in one turn are written together at its end; a read or a write before that writes them first', async () => {
    for (let i = 0; i < 50; i++) store.recordServedPage(PEER_A, [{ id: `p${i}`, deleted: true }], ['*'])
    expect(rows()).toBe(0) // not one transaction per page
    await new Promise((r) => setImmediate(r))
    expect(rows()).toBe(50)
    store.recordServedPage(PEER_B, [{ id: 'q', deleted: true }], ['*'])
    store.remember({ label: 'note:x', content: 'a write of our own' })
    expect(rows()).toBe(51) // written before the write that followed it
    store.recordServedPage(PEER_B, [{ id: 'r', deleted: true }], ['*'])
    expect(store.peerState(PEER_B).served_total).toBe(2) // a read sees it
    expect(rows()).toBe(52)
    store.recordServedPage(PEER_B, [{ id: 's', deleted: true }], ['*'])
    store.close() // and closing writes what is still queued
    expect(rows()).toBe(53)
    store = t.open()
  })

  test('newest first, paged with a cursor', () => {
    for (let i = 0; i < 5; i++) {
      store.recordServedPage(PEER_A, [{ id: `id-${i}`, deleted: true }], ['*'])
      t.clock.advance(1000)
    }
    const first = store.accessLog(PEER_A, { limit: 2 })
    expect(first.entries.map((e) => e.first_id)).toEqual(['id-4', 'id-3'])
    const second = store.accessLog(PEER_A, { limit: 2, before: Number(first.cursor) })
    expect(second.entries.map((e) => e.first_id)).toEqual(['id-2', 'id-1'])
    const third = store.accessLog(PEER_A, { limit: 2, before: Number(second.cursor) })
    expect(third).toEqual({ entries: [expect.objectContaining({ first_id: 'id-0' })], cursor: null })
  })

  test("one peer's log is only its own rows, however the peers' pages interleave", async () => {
    for (let i = 0; i < 6; i++) store.recordServedPage(i % 3 === 0 ? PEER_B : PEER_A, [{ id: `id-${i}`, deleted: true }], ['*'])
    await new Promise((r) => setImmediate(r))
    expect(store.accessLog(PEER_A).entries.map((e) => e.first_id)).toEqual(['id-5', 'id-4', 'id-2', 'id-1'])
    expect(store.accessLog(PEER_B).entries.map((e) => e.first_id)).toEqual(['id-3', 'id-0'])
    // A number that is not one of this peer's cursors still pages by "older than": here B's row id-3.
    const b3 = store.accessLog(PEER_B, { limit: 1 }).cursor
    expect(store.accessLog(PEER_A, { before: Number(b3) }).entries.map((e) => e.first_id)).toEqual(['id-2', 'id-1'])
  })

  test("a row number SQLite hands out again after the newest rows were deleted never shows in another peer's log", () => {
    store.recordServedPage(PEER_A, [{ id: 'a-old', deleted: true }], ['*'])
    store.close()
    // Every row gone (as 30 days of retention leave it): the next row gets the first pk again.
    const db = new Database(t.path)
    db.run('DELETE FROM access_log')
    db.close()
    store = t.open()
    store.recordServedPage(PEER_B, [{ id: 'b-new', deleted: true }], ['*'])
    expect(store.accessLog(PEER_B).entries.map((e) => e.first_id)).toEqual(['b-new'])
    expect(store.accessLog(PEER_A).entries).toEqual([])
    store.recordServedPage(PEER_A, [{ id: 'a-new', deleted: true }], ['*'])
    expect(store.accessLog(PEER_A).entries.map((e) => e.first_id)).toEqual(['a-new'])
  })

  test("a purged peer's log stays readable (purge deletes the sync state, not what the peer received)", () => {
    for (let i = 0; i < 3; i++) store.recordServedPage(PEER_A, [{ id: `id-${i}`, deleted: true }], ['*'])
    store.purgePeer(PEER_A)
    expect(store.accessLog(PEER_A).entries.map((e) => e.first_id)).toEqual(['id-2', 'id-1', 'id-0'])
    expect(store.peerState(PEER_A)).toMatchObject({ cursor: null, served_total: 0 })
    store.recordServedPage(PEER_A, [{ id: 'after', deleted: true }], ['*'])
    expect(store.accessLog(PEER_A).entries.map((e) => e.first_id)).toEqual(['after', 'id-2', 'id-1', 'id-0'])
  })

  test('a log written before rows were linked is linked by the upgrade: read newest first and appended to', () => {
    store.close()
    rmSync(t.path, { force: true })
    const old = new Database(t.path)
    for (const m of MIGRATIONS.slice(0, 11)) old.run(m)
    old.run('PRAGMA user_version = 11')
    const insert = old.query('INSERT INTO access_log (at_ms, peer_id, count, deleted, first_id, last_id) VALUES (?, ?, 1, 0, ?, ?)')
    for (let i = 0; i < 5; i++) insert.run(t.clock.now(), i % 2 ? PEER_B : PEER_A, `old-${i}`, `old-${i}`)
    old.run(`INSERT INTO peer_state (peer_id, served_total, logged_pages) VALUES ('${PEER_A}', 3, 3), ('${PEER_B}', 2, 2)`)
    // A peer purged before the upgrade: its rows, and no peer_state row.
    const purged = '11111111-2222-4333-8444-555555555555'
    insert.run(t.clock.now(), purged, 'gone-0', 'gone-0')
    insert.run(t.clock.now(), purged, 'gone-1', 'gone-1')
    old.close()
    store = t.open()
    expect(store.accessLog(purged).entries.map((e) => e.first_id)).toEqual(['gone-1', 'gone-0'])
    expect(store.accessLog(PEER_A).entries.map((e) => e.first_id)).toEqual(['old-4', 'old-2', 'old-0'])
    const paged = store.accessLog(PEER_B, { limit: 1 })
    expect(paged.entries.map((e) => e.first_id)).toEqual(['old-3'])
    expect(store.accessLog(PEER_B, { limit: 1, before: Number(paged.cursor) }).entries.map((e) => e.first_id)).toEqual(['old-1'])
    store.recordServedPage(PEER_A, [{ id: 'new', deleted: true }], ['*'])
    expect(store.accessLog(PEER_A).entries.map((e) => e.first_id)).toEqual(['new', 'old-4', 'old-2', 'old-0'])
  })

  test('entries older than 30 days are neither shown nor kept', () => {
    const entry: WireEntry[] = [{ id: 'old', deleted: true }]
    store.recordServedPage(PEER_A, entry, ['*'])
    t.clock.advance(ACCESS_LOG_RETENTION_MS + 1)
    expect(store.accessLog(PEER_A).entries).toEqual([])
    // Pruning runs on a fraction of inserts; after enough of them the old row is gone from disk.
    for (let i = 0; i < 300; i++) store.recordServedPage(PEER_A, [{ id: `n${i}`, deleted: true }], ['*'])
    expect(store.accessLog(PEER_A, { limit: 1000 }).entries.some((e) => e.first_id === 'old')).toBe(false)
    expect(rows()).toBeLessThan(301)
  })

  test('a turn written together leaves exactly the rows and heads that writing each page alone leaves', () => {
    store.close()
    const PEER_C = '22222222-3333-4444-8555-666666666666'
    // One database written page by page, one with each turn's pages written together (as a hub
    // does): every row, its link, its place in its peer's count and every head must agree, across
    // turns where one peer comes back many times and past the prune at every 256th page.
    const open = (name: string, together: boolean) => {
      const db = openDatabase(join(t.dir, name), { durable: false })
      let queued: (() => void)[] = []
      const ctx = {
        db,
        clock: t.clock,
        defer: (fn: () => void) => (together ? queued.push(fn) : db.transaction(fn).immediate()),
      } as unknown as Parameters<typeof createServedLog>[0]
      const endTurn = () => {
        const fns = queued
        queued = []
        db.transaction(() => {
          for (const fn of fns) fn()
        }).immediate()
      }
      return { db, log: createServedLog(ctx, { maxRowsPerPeer: 300 }), endTurn }
    }
    const alone = open('alone.db', false)
    const together = open('together.db', true)
    const peers = [PEER_A, PEER_A, PEER_B, PEER_A, PEER_C]
    for (let turn = 0; turn < 80; turn++) {
      for (let i = 0; i < 25; i++) {
        const peer = peers[(turn * 7 + i) % peers.length]!
        const page: WireEntry[] =
          i % 4 === 0 ? [{ id: `t${turn}-${i}`, deleted: true }] : [wire(`t${turn}-${i}`, 'public:x', 'y'), { id: `t${turn}-${i}b`, deleted: true }]
        for (const s of [alone, together]) s.log.record(peer, page, [`public:${turn % 3}`])
      }
      t.clock.advance(1000)
      together.endTurn()
    }
    const dump = (db: typeof alone.db) => ({
      log: db.query('SELECT * FROM access_log ORDER BY pk').all(),
      heads: db.query('SELECT peer_id, served_total, served_scope, logged_pages, last_log_pk FROM peer_state ORDER BY peer_id').all(),
    })
    const [a, b] = [dump(alone.db), dump(together.db)]
    alone.db.close()
    together.db.close()
    expect(a.log.length).toBeGreaterThan(300) // the prune ran, and left the same rows in both
    expect(a.log.length).toBeLessThan(2000)
    expect(b).toEqual(a)
    store = t.open()
  })

  test("each peer's rows are bounded; one peer's traffic never evicts another's entries", () => {
    store.close()
    // The store module itself, with a small cap, on the same file.
    const db = openDatabase(t.path, { durable: false }) // 2,000 commits: not synced one by one
    const ctx = {
      db,
      clock: t.clock,
      defer: (fn: () => void) => db.transaction(fn).immediate(),
    } as unknown as Parameters<typeof createServedLog>[0]
    const log = createServedLog(ctx, { maxRowsPerPeer: 500 })
    for (let i = 0; i < 3; i++) log.record(PEER_B, [{ id: `quiet${i}`, deleted: true }], ['*'])
    for (let i = 0; i < 2000; i++) log.record(PEER_A, [{ id: `x${i}`, deleted: true }], ['*'])
    const count = (peer: string) => (db.query('SELECT count(*) AS n FROM access_log WHERE peer_id = ?').get(peer) as { n: number }).n
    const [a, b] = [count(PEER_A), count(PEER_B)]
    db.close()
    expect(a).toBeGreaterThanOrEqual(500)
    expect(a).toBeLessThanOrEqual(500 + 256)
    expect(b).toBe(3)
  })
})
