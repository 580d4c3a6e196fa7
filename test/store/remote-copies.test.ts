import { describe, expect, test } from 'bun:test'
import { BadInput } from '../../src/lib/errors'
import type { Store, WireEntry } from '../../src/store'
import { PEER_A, PEER_B, storeEachTest, tempStores, wire, type TempStores } from './_temp-store'

let t: TempStores
let store: Store
storeEachTest((fresh) => ({ t, store } = fresh))

const copies = (peer = PEER_A) =>
  store
    .list({ origin: peer, limit: 500 })
    .memories.map((m) => `${m.label}=${m.content}`)
    .sort()

describe('applyRemote', () => {
  test('stores copies under peer:<id>:<label> in plaintext, updates in place, deletes on tombstones', () => {
    expect(store.applyRemote(PEER_A, [wire('o1', 'public:a', 'one'), wire('o2', 'decision:b', 'two')], '2')).toEqual({
      stored: 2,
      deleted: 0,
      dropped: 0,
      held: 0,
    })
    expect(copies()).toEqual([`peer:${PEER_A}:decision:b=two`, `peer:${PEER_A}:public:a=one`])
    const copy = store.list({ origin: PEER_A, prefix: `peer:${PEER_A}:public:a` }).memories[0]!
    expect(copy).toMatchObject({ encrypted: false, origin_peer: PEER_A, created_at: '2026-05-01T00:00:00.000Z' })
    expect(copy.id).not.toBe('o1') // copies get their own local id

    const later = '2026-05-02T00:00:00.000Z'
    const r = store.applyRemote(PEER_A, [wire('o1', 'public:a-renamed', 'one v2', later), { id: 'o2', deleted: true }, { id: 'never-had', deleted: true }], '4')
    expect(r).toEqual({ stored: 1, deleted: 1, dropped: 0, held: 0 })
    expect(copies()).toEqual([`peer:${PEER_A}:public:a-renamed=one v2`])
    expect(store.get(copy.id)).toMatchObject({ updated_at: later, label: `peer:${PEER_A}:public:a-renamed` })
    expect(store.peerState(PEER_A)).toMatchObject({ cursor: '4', pulled_total: 5 })
  })

  test('a long page is applied as if entry by entry: new copies around held ones, a tombstone after its copy, the same id twice', () => {
    // 90 copies held before the page; the page writes its new copies many rows per statement,
    // and must still see each entry in page order.
    const held = Array.from({ length: 90 }, (_, i) => wire(`h${i}`, `public:h${i}`, `held ${i}`))
    store.applyRemote(PEER_A, held, '1')
    const page: WireEntry[] = []
    for (let i = 0; i < 150; i++) {
      page.push(wire(`n${i}`, `public:n${i}`, `new ${i}`))
      if (i % 2 === 0) page.push(held[i % 90]!) // the same as held: no change
      if (i === 70) page.push(wire('h3', 'public:h3', 'held 3 edited', '2026-05-02T00:00:00.000Z')) // an edit of one held
      if (i === 99) page.push({ id: 'n99', deleted: true }) // right after its copy
    }
    page.push(wire('n7', 'public:n7', 'new 7 again', '2026-05-02T00:00:00.000Z')) // the same id twice: the later wins
    page.push({ id: 'n5', deleted: true }) // stored earlier in this page, then deleted
    page.splice(3, 0, { id: 'n140', deleted: true }) // a tombstone before its copy: nothing to delete yet
    expect(store.applyRemote(PEER_A, page, '2')).toEqual({ stored: 150 + 75 + 1 + 1, deleted: 2, dropped: 0, held: 0 })

    const now = new Map(store.list({ origin: PEER_A, limit: 500 }).memories.map((m) => [m.label.slice(`peer:${PEER_A}:`.length), m.content]))
    expect(now.size).toBe(90 + 150 - 2)
    expect(now.get('public:n5')).toBeUndefined()
    expect(now.get('public:n99')).toBeUndefined()
    expect(now.get('public:n140')).toBe('new 140')
    expect(now.get('public:n7')).toBe('new 7 again')
    expect(now.get('public:h3')).toBe('held 3 edited')
    expect(now.get('public:n149')).toBe('new 149')
    expect(now.get('public:h89')).toBe('held 89')
    // Every stored copy is searchable, under its own pk: the full-text rows match the rows.
    for (let i = 0; i < 150; i++) {
      const found = store.recall(`new ${i}`, 100).map((m) => m.content)
      if (i === 5 || i === 99) expect(found).not.toContain(`new ${i}`)
      else expect(found).toContain(i === 7 ? 'new 7 again' : `new ${i}`)
    }
    expect(store.recall('edited').map((m) => m.content)).toEqual(['held 3 edited'])
    expect(store.recall('again').map((m) => m.content)).toEqual(['new 7 again'])
    expect(store.countPeerCopies(PEER_A)).toBe(238)
  })

  test('the same id twice between tombstones (in one 64-row statement, and across two) ends as if applied entry by entry', () => {
    // No tombstone between them: both entries go to SQLite in one batch of inserts. The later one
    // must win, be counted and searchable once, and cost quota once, as it would a page apart.
    const page: WireEntry[] = Array.from({ length: 70 }, (_, i) => wire(`d${i}`, `public:d${i}`, `first ${i}`))
    page[20] = wire('d10', 'public:d10', 'second 10', '2026-05-02T00:00:00.000Z') // same 64-row run as d10
    page[66] = wire('d3', 'public:d3-moved', 'second 3', '2026-05-02T00:00:00.000Z') // next run, relabelled
    page[67] = wire('d4', 'public:d4', 'first 4') // identical again: no change
    const once = store.applyRemote(PEER_A, page, '1')

    using other = tempStores()
    const oneByOne = other.open()
    let stored = 0
    for (const e of page) stored += oneByOne.applyRemote(PEER_A, [e], '1').stored
    expect(once).toEqual({ stored, deleted: 0, dropped: 0, held: 0 })
    const state = (s: Store) => {
      const rows = s.list({ origin: PEER_A, limit: 500 }).memories.map((m) => `${m.label}=${m.content}@${m.updated_at}`)
      return { rows: rows.sort(), bytes: s.peerState(PEER_A).copy_bytes, copies: s.countPeerCopies(PEER_A) }
    }
    expect(state(store)).toEqual(state(oneByOne))
    expect(state(store).copies).toBe(67)
    expect(
      store
        .recall('second', 10)
        .map((m) => m.content)
        .sort(),
    ).toEqual(['second 10', 'second 3'])
    expect(store.recall('first 10', 10).map((m) => m.content)).not.toContain('first 10')
    expect(store.recall('first 3', 10).map((m) => m.content)).not.toContain('first 3')
    expect(store.recall('first 4', 10).map((m) => m.content)).toContain('first 4')
  })

  test('the same origin id from two peers is two copies', () => {
    store.applyRemote(PEER_A, [wire('same', 'public:x', 'from a')], '1')
    store.applyRemote(PEER_B, [wire('same', 'public:x', 'from b')], '1')
    expect(copies(PEER_A)).toEqual([`peer:${PEER_A}:public:x=from a`])
    expect(copies(PEER_B)).toEqual([`peer:${PEER_B}:public:x=from b`])
    expect(store.countPeerCopies(PEER_A)).toBe(1)
  })

  test('a page that fails midway stores nothing, and the cursor stays', () => {
    store.applyRemote(PEER_A, [wire('o1', 'public:a', 'one')], '1')
    const bad: WireEntry[] = [wire('o2', 'public:b', 'two'), { id: 'o1', deleted: true }, { id: 'o3', label: 'public:c' } as unknown as WireEntry]
    expect(() => store.applyRemote(PEER_A, bad, '3')).toThrow(/entry 2 of the page/)
    expect(copies()).toEqual([`peer:${PEER_A}:public:a=one`])
    expect(store.peerState(PEER_A).cursor).toBe('1')
    expect(store.recall('two')).toEqual([])
  })

  test('an empty page still moves the cursor', () => {
    expect(store.applyRemote(PEER_A, [], '17')).toEqual({ stored: 0, deleted: 0, dropped: 0, held: 0 })
    expect(store.peerState(PEER_A).cursor).toBe('17')
  })

  test('copies are never served onwards and never counted as ours', () => {
    store.applyRemote(PEER_A, [wire('o1', 'public:a', 'one')], '1')
    expect(store.changesSince(null, ['*'], 100).memories).toEqual([])
    expect(store.list({ origin: 'local' }).memories).toEqual([])
  })

  test('refuses bad peer ids and cursors', () => {
    expect(() => store.applyRemote('not-a-uuid', [], '1')).toThrow(BadInput)
    expect(() => store.applyRemote(PEER_A.toUpperCase(), [], '1')).toThrow(BadInput)
    expect(() => store.applyRemote(PEER_A, [], 'x'.repeat(300))).toThrow(BadInput)
  })
})

describe('resetScope', () => {
  test('narrowing drops copies whose origin label no longer matches and keeps the cursor; widening restarts it', () => {
    expect(store.resetScope(PEER_A, ['*'])).toBe(0)
    store.applyRemote(PEER_A, [wire('o1', 'public:p', 'p'), wire('o2', 'decision:d', 'd')], '2')
    expect(store.resetScope(PEER_A, ['*'])).toBe(0) // unchanged: a no-op
    expect(store.peerState(PEER_A).cursor).toBe('2')

    // Everything `decision:*` covers up to cursor 2 was sent under `*`: the pull goes on from there.
    expect(store.resetScope(PEER_A, ['decision:*'])).toBe(1)
    expect(copies()).toEqual([`peer:${PEER_A}:decision:d=d`])
    expect(store.peerState(PEER_A)).toMatchObject({ cursor: '2', scope_key: '["decision:*"]' })
    expect(store.recall('p')).toEqual([])

    // Widening drops nothing and pulls from the start; the re-pull brings the rest back and leaves the kept copy as is.
    expect(store.resetScope(PEER_A, ['decision:*', 'public:*'])).toBe(0)
    expect(store.peerState(PEER_A)).toMatchObject({ cursor: null, scope_key: '["decision:*","public:*"]' })
    const kept = store.list({ origin: PEER_A }).memories[0]!
    expect(store.applyRemote(PEER_A, [wire('o1', 'public:p', 'p'), wire('o2', 'decision:d', 'd')], '2')).toEqual({ stored: 2, deleted: 0, dropped: 0, held: 0 })
    expect(copies()).toHaveLength(2)
    expect(store.get(kept.id)).toEqual(kept)
  })

  test('a first scope, or one stored before any pull, starts from the beginning', () => {
    store.applyRemote(PEER_A, [wire('o1', 'public:p', 'p')], '5') // no scope recorded
    expect(store.resetScope(PEER_A, ['public:*'])).toBe(0)
    expect(store.peerState(PEER_A).cursor).toBeNull()
  })

  test('a label that contains the peer prefix pattern is matched on its origin part only', () => {
    store.resetScope(PEER_A, ['*'])
    store.applyRemote(PEER_A, [wire('o1', 'ops:peer:x', 'weird but legal')], '1')
    expect(store.resetScope(PEER_A, ['ops:*'])).toBe(0)
    expect(store.resetScope(PEER_A, ['peer:*'])).toBe(1)
  })
})

describe('purgePeer / countPeerCopies', () => {
  test('deletes only that peer’s copies (and their index rows) and its sync state', () => {
    store.applyRemote(PEER_A, [wire('o1', 'public:a', 'alpha'), wire('o2', 'public:b', 'beta')], '2')
    store.applyRemote(PEER_B, [wire('o1', 'public:a', 'alpha')], '1')
    store.recordPull(PEER_A, { ok: false, error: 'boom' })
    expect(store.purgePeer(PEER_A)).toBe(2)
    expect(store.countPeerCopies(PEER_A)).toBe(0)
    expect(store.countPeerCopies(PEER_B)).toBe(1)
    expect(store.recall('alpha').map((h) => h.peer)).toEqual([PEER_B])
    expect(store.recall('beta')).toEqual([])
    expect(store.peerState(PEER_A)).toMatchObject({ cursor: null, last_error: null, consecutive_failures: 0 })
    expect(store.purgePeer(PEER_A)).toBe(0)
  })
})

describe('peer state', () => {
  test('defaults, pull outcomes and served counts', () => {
    expect(store.peerState(PEER_A)).toEqual({
      peer_id: PEER_A,
      cursor: null,
      scope_key: null,
      last_sync_at: null,
      last_error: null,
      consecutive_failures: 0,
      pulled_total: 0,
      served_total: 0,
      copy_bytes: 0,
      held_deletes: 0,
    })
    store.recordPull(PEER_A, { ok: false, error: 'request_failed: connect ECONNREFUSED' })
    store.recordPull(PEER_A, { ok: false, error: 'timeout: 10 s' })
    expect(store.peerState(PEER_A)).toMatchObject({ last_error: 'timeout: 10 s', consecutive_failures: 2, last_sync_at: null })
    store.recordPull(PEER_A, { ok: true, at: '2026-05-26T10:05:00.000Z' })
    expect(store.peerState(PEER_A)).toMatchObject({ last_error: null, consecutive_failures: 0, last_sync_at: '2026-05-26T10:05:00.000Z' })
    store.recordServed(PEER_A, 3)
    store.recordServed(PEER_A, 4)
    expect(store.peerState(PEER_A).served_total).toBe(7)
    store.recordPull(PEER_B, { ok: false, error: 'x'.repeat(5000) })
    expect(store.peerState(PEER_B).last_error).toHaveLength(1000)
  })
})

describe('copies obey the puller’s rules', () => {
  test('oversize content, control or bidi-override characters and long labels are dropped and counted, never stored', () => {
    const small = t.open({ maxContentBytes: 16 })
    const page: WireEntry[] = [
      wire('ok', 'public:fine', 'sixteen bytes ok'),
      wire('big', 'public:big', 'x'.repeat(17)),
      wire('wide', 'public:wide', 'é'.repeat(9)), // 9 chars, 18 UTF-8 bytes
      wire('esc', 'public:\x1b]52;c;aGk=\x07', 'terminal escape'),
      wire('del', 'public:del\x7f', 'DEL'),
      wire('c1', 'public:c1\u009b', 'C1 CSI'),
      wire('bidi', 'public:\u202eevil', 'right-to-left override'),
      wire('iso', 'public:\u2067x', 'isolate'),
      wire('long', `public:${'l'.repeat(250)}`, 'label of 257 chars'),
      wire('vault', 'public:v', 'AES:abc'),
      wire('rtl', 'public:\u05e9\u05dc\u05d5\u05dd\u200f', 'RLM is fine'),
    ]
    expect(small.applyRemote(PEER_A, page, '11')).toEqual({ stored: 2, deleted: 0, dropped: 9, held: 0 })
    const labels = small
      .list({ origin: PEER_A, limit: 50 })
      .memories.map((m) => m.label)
      .sort()
    expect(labels).toEqual([`peer:${PEER_A}:public:fine`, `peer:${PEER_A}:public:\u05e9\u05dc\u05d5\u05dd\u200f`])
    expect(small.peerState(PEER_A).cursor).toBe('11') // the page moved on: the bad copies cannot block it
  })

  test('an update that breaks the rules is dropped and the copy keeps its last good version', () => {
    const small = t.open({ maxContentBytes: 16 })
    small.applyRemote(PEER_A, [wire('o1', 'public:a', 'fine')], '1')
    expect(small.applyRemote(PEER_A, [wire('o1', 'public:a', 'y'.repeat(100), '2026-05-02T00:00:00.000Z')], '2')).toMatchObject({ stored: 0, dropped: 1 })
    expect(copies()).toEqual([`peer:${PEER_A}:public:a=fine`])
  })
})

describe('per-peer quota (max_peer_bytes)', () => {
  // Label and content bytes, plus the fixed overhead of a row (256 bytes).
  const size = (label: string, content: string) => Buffer.byteLength(`peer:${PEER_A}:${label}`) + Buffer.byteLength(content) + 256

  test('a page that would go over the quota stores nothing (nor its cursor); deletes still apply; a raised quota resumes', () => {
    const quota = size('public:a', 'x'.repeat(100)) * 2 + 10
    const s = t.open({ maxPeerBytes: quota, maxContentBytes: 4096 })
    s.applyRemote(PEER_A, [wire('a', 'public:a', 'x'.repeat(100)), wire('b', 'public:b', 'x'.repeat(100))], '2')
    expect(s.peerState(PEER_A).copy_bytes).toBe(size('public:a', 'x'.repeat(100)) * 2)

    let thrown: unknown
    try {
      s.applyRemote(PEER_A, [wire('c', 'public:c', 'x'.repeat(100))], '3')
    } catch (err) {
      thrown = err
    }
    expect(thrown).toMatchObject({ code: 'quota_exceeded' })
    expect((thrown as Error).message).toContain('max_peer_bytes')
    expect(s.countPeerCopies(PEER_A)).toBe(2)
    expect(s.peerState(PEER_A).cursor).toBe('2')

    // A tombstone shrinks the share even over quota.
    expect(s.applyRemote(PEER_A, [{ id: 'a', deleted: true }], '4')).toMatchObject({ deleted: 1 })
    expect(s.peerState(PEER_A).copy_bytes).toBe(size('public:b', 'x'.repeat(100)))

    // The operator raises it (a restart reopens the store with the new value): the rest arrives.
    const raised = t.open({ maxPeerBytes: quota * 10, maxContentBytes: 4096 })
    expect(raised.applyRemote(PEER_A, [wire('c', 'public:c', 'x'.repeat(100)), wire('d', 'public:d', 'x'.repeat(100))], '6')).toMatchObject({ stored: 2 })
    expect(raised.countPeerCopies(PEER_A)).toBe(3)
  })

  test('copy_bytes counts UTF-8 bytes, not characters, wherever a copy is not all ASCII', () => {
    const page = [
      wire('a', 'public:plain', 'all ascii here'),
      wire('b', 'public:café', 'ascii content'),
      wire('c', 'public:plain-2', 'naïve ☕ 𝄞 日本語'),
      wire('d', 'public:ünï', 'ünï ☕'),
    ]
    store.applyRemote(PEER_A, page, '2')
    const expected = page.reduce((n, e) => n + ('content' in e ? size(e.label, e.content) : 0), 0)
    expect(expected).toBeGreaterThan(page.reduce((n, e) => n + ('content' in e ? `peer:${PEER_A}:${e.label}`.length + e.content.length + 256 : 0), 0))
    expect(store.peerState(PEER_A).copy_bytes).toBe(expected)
    // Each is searchable, ASCII or not.
    for (const word of ['ascii', 'café', 'naïve', 'ünï']) expect(store.recall(word).length).toBeGreaterThan(0)
  })

  test('copy_bytes follows updates, scope resets and purges', () => {
    store.applyRemote(PEER_A, [wire('a', 'public:a', 'one'), wire('b', 'decision:b', 'two')], '2')
    expect(store.peerState(PEER_A).copy_bytes).toBe(size('public:a', 'one') + size('decision:b', 'two'))
    store.applyRemote(PEER_A, [wire('a', 'public:a', 'one, longer now', '2026-05-02T00:00:00.000Z')], '3')
    expect(store.peerState(PEER_A).copy_bytes).toBe(size('public:a', 'one, longer now') + size('decision:b', 'two'))
    store.resetScope(PEER_A, ['decision:*'])
    expect(store.peerState(PEER_A).copy_bytes).toBe(size('decision:b', 'two'))
    store.purgePeer(PEER_A)
    expect(store.peerState(PEER_A).copy_bytes).toBe(0)
  })
})

describe('mass-delete guard', () => {
  const fill = (n: number) => {
    const page = Array.from({ length: n }, (_, i) => wire(`o${i}`, `public:m${i}`, `memory ${i}`))
    store.applyRemote(PEER_A, page, String(n))
  }
  const tombstones = (from: number, to: number): WireEntry[] => Array.from({ length: to - from }, (_, i) => ({ id: `o${from + i}`, deleted: true as const }))

  test('more than half and more than 100 is held across pages, survives a reopen, and is applied once accepted', () => {
    fill(300)
    // Spread over two pages: nothing is deleted before the pull's last page decides.
    expect(store.applyRemote(PEER_A, tombstones(0, 100), 'p1', { final: false })).toMatchObject({ deleted: 0, held: 0 })
    expect(store.countPeerCopies(PEER_A)).toBe(300)
    expect(store.applyRemote(PEER_A, [...tombstones(100, 160), wire('new', 'public:new', 'still arrives')], 'p2', { final: true })).toMatchObject({
      deleted: 0,
      held: 160,
      stored: 1,
    })
    expect(store.countPeerCopies(PEER_A)).toBe(301)
    expect(store.peerState(PEER_A)).toMatchObject({ held_deletes: 160, cursor: 'p2' })

    const reopened = t.open()
    expect(reopened.peerState(PEER_A).held_deletes).toBe(160)
    // Later pulls keep it held (and count what more arrives).
    expect(reopened.applyRemote(PEER_A, tombstones(160, 170), 'p3')).toMatchObject({ deleted: 0, held: 170 })
    expect(reopened.acceptDeletes(PEER_A)).toBe(170)
    expect(reopened.countPeerCopies(PEER_A)).toBe(131)
    expect(reopened.peerState(PEER_A).held_deletes).toBe(0)
    expect(reopened.acceptDeletes(PEER_A)).toBe(0)
  })

  test('a narrowed scope keeps a hold on the copies it still covers; the dropped ones leave it', () => {
    store.resetScope(PEER_A, ['*'])
    fill(300)
    expect(store.applyRemote(PEER_A, tombstones(0, 160), 'p1')).toMatchObject({ deleted: 0, held: 160 })
    // public:m1* covers m1, m10-m19 and m100-m199: 111 copies, of which m1, m10-m19, m100-m159 are held.
    expect(store.resetScope(PEER_A, ['public:m1*'])).toBe(189)
    expect(store.peerState(PEER_A)).toMatchObject({ cursor: 'p1', held_deletes: 71 })
    expect(store.acceptDeletes(PEER_A)).toBe(71)
    expect(store.countPeerCopies(PEER_A)).toBe(40)
  })

  test("a narrowed scope takes the dropped copies' changes out of the window: they no longer count against fewer copies", () => {
    store.resetScope(PEER_A, ['*'])
    fill(400)
    // 90 overwrites of m2xx/m3xx copies (o200-o289): far below the threshold, applied, in the window.
    const edits = Array.from({ length: 90 }, (_, i) => wire(`o${200 + i}`, `public:m${200 + i}`, `edit ${i}`, '2026-06-01T00:00:00.000Z'))
    expect(store.applyRemote(PEER_A, edits, 'e1')).toMatchObject({ held: 0 })
    // Narrowed to public:m1*: 111 copies stay (m1, m10-m19, m100-m199); the edited ones are dropped.
    expect(store.resetScope(PEER_A, ['public:m1*'])).toBe(289)
    // 100 deletes of the 111: not more than 100, so no mass change, had the dropped copies' 90
    // changes left the window; counted, they would make 190 changes and hold these deletes.
    expect(store.applyRemote(PEER_A, tombstones(100, 200), 'd1')).toMatchObject({ deleted: 100, held: 0 })
  })

  test('far below the threshold a delete applies at once, even on a page that is not the last', () => {
    fill(300)
    expect(store.applyRemote(PEER_A, tombstones(0, 10), 'p1', { final: false })).toMatchObject({ deleted: 10, held: 0 })
    expect(store.countPeerCopies(PEER_A)).toBe(290)
  })

  test('near the threshold the pull is judged at its end: up to half applies, a copy sent again is not deleted', () => {
    fill(300)
    // Over a quarter of 300: staged until the pull's last page, then judged as one burst.
    expect(store.applyRemote(PEER_A, tombstones(0, 100), 'p1', { final: false })).toMatchObject({ deleted: 0 })
    expect(store.countPeerCopies(PEER_A)).toBe(300)
    // o5 is sent again unchanged (made public again at its origin): no longer to be deleted.
    expect(store.applyRemote(PEER_A, [...tombstones(100, 150), wire('o5', 'public:m5', 'memory 5')], 'p2')).toMatchObject({ deleted: 149, held: 0 })
    expect(store.countPeerCopies(PEER_A)).toBe(151)
  })

  test('spread over pulls, the 24 h window adds them up: past half of what the peer had, the rest is held (also after a reopen)', () => {
    fill(1000)
    const results = []
    for (let p = 0; p < 5; p++) {
      if (p === 3) store = t.open() // a restart does not reset the window
      results.push(store.applyRemote(PEER_A, tombstones(p * 200, p * 200 + 200), `d${p}`))
      t.clock.advance(60 * 60 * 1000)
    }
    expect(results.map((r) => r.deleted)).toEqual([200, 200, 0, 0, 0])
    expect(results.map((r) => r.held)).toEqual([0, 0, 200, 400, 600])
    expect(store.countPeerCopies(PEER_A)).toBe(600)
    expect(store.acceptDeletes(PEER_A)).toBe(600)
    expect(store.countPeerCopies(PEER_A)).toBe(0)
  })

  test('a copy edited again and again counts once: 40 of 300 copies edited in 10 pulls a day is no mass change', () => {
    fill(300)
    for (let round = 0; round < 10; round++) {
      const edits = Array.from({ length: 40 }, (_, i) =>
        wire(`o${i}`, `public:m${i}`, `edit ${round}`, `2026-06-${String(round + 1).padStart(2, '0')}T00:00:00.000Z`),
      )
      expect(store.applyRemote(PEER_A, edits, `e${round}`)).toMatchObject({ held: 0 })
      t.clock.advance(60 * 60 * 1000)
    }
    expect(store.list({ prefix: `peer:${PEER_A}:public:m1`, limit: 20 }).memories.find((m) => m.label.endsWith(':m1'))!.content).toBe('edit 9')
  })

  test('the window rolls: 600 of 1,000 deleted in four pulls is held within a day, not over two', () => {
    const pulls = (gapMs: number) => {
      const held: number[] = []
      for (let p = 0; p < 4; p++) {
        held.push(store.applyRemote(PEER_A, tombstones(p * 150, p * 150 + 150), `d${p}`).held)
        t.clock.advance(gapMs)
      }
      return held
    }
    fill(1000)
    expect(pulls(60 * 60 * 1000)).toEqual([0, 0, 0, 150])
    store.purgePeer(PEER_A)
    fill(1000)
    expect(pulls(13 * 60 * 60 * 1000)).toEqual([0, 0, 0, 0])
    expect(store.countPeerCopies(PEER_A)).toBe(400)
  })

  test("overwriting all of a peer's copies in one pull is held: the old versions stay until accepted", () => {
    fill(500)
    const rewritten = Array.from({ length: 500 }, (_, i) => wire(`o${i}`, `public:m${i}`, `rewritten ${i}`, '2026-06-01T00:00:00.000Z'))
    expect(store.applyRemote(PEER_A, rewritten, 'w1')).toMatchObject({ stored: 500, deleted: 0, held: 500 })
    expect(store.list({ origin: PEER_A, limit: 500 }).memories.every((m) => m.content.startsWith('memory '))).toBe(true)
    expect(store.peerState(PEER_A).held_deletes).toBe(500)
    expect(store.acceptDeletes(PEER_A)).toBe(500)
    expect(store.list({ origin: PEER_A, limit: 500 }).memories.every((m) => m.content.startsWith('rewritten '))).toBe(true)
    expect(store.peerState(PEER_A).copy_bytes).toBe(
      store.list({ origin: PEER_A, limit: 500 }).memories.reduce((n, m) => n + Buffer.byteLength(m.label) + Buffer.byteLength(m.content) + 256, 0),
    )
    // Accepted: the window starts afresh, so the next edits of a few copies apply at once.
    expect(store.applyRemote(PEER_A, [wire('o1', 'public:m1', 'edited once more', '2026-06-02T00:00:00.000Z')], 'w2')).toMatchObject({ held: 0 })
    expect(store.get(store.list({ prefix: `peer:${PEER_A}:public:m1`, limit: 1 }).memories[0]!.id)!.content).toBe('edited once more')
  })
})
