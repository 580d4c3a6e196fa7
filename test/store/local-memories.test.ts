import { describe, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { BadInput, TooLarge } from '../../src/lib/errors'
import { MINUTE_MS } from '../../src/lib/clock'
import type { Store } from '../../src/store'
import { storeEachTest, type TempStores } from './_temp-store'

let t: TempStores
let store: Store
storeEachTest((fresh) => ({ t, store } = fresh))

const raw = (id: string) => {
  const db = new Database(t.path, { readonly: true })
  try {
    return db.query('SELECT * FROM memories WHERE id = ?').get(id) as Record<string, unknown> | null
  } finally {
    db.close()
  }
}

describe('remember / get', () => {
  test('public labels are stored in plaintext, all others encrypted; get decrypts', () => {
    const pub = store.remember({ label: 'public:db', content: 'we chose sqlite' })
    const priv = store.remember({ label: 'note:diary', content: 'dear diary' })
    expect(pub).toEqual({ id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-7/), label: 'public:db', encrypted: false, held: false })
    expect(priv.encrypted).toBe(true)
    expect(raw(pub.id)!.content).toBe('we chose sqlite')
    expect(String(raw(priv.id)!.content)).toStartWith('AES:')
    expect(store.get(priv.id)).toEqual({
      id: priv.id,
      label: 'note:diary',
      content: 'dear diary',
      encrypted: true,
      created_at: '2026-05-26T10:00:00.000Z',
      updated_at: '2026-05-26T10:00:00.000Z',
      origin_peer: null,
      held: false,
    })
    expect(store.get('019e63ba-1500-7411-9222-a91ba458b6d4')).toBeNull()
  })

  test.each([
    ['an empty label', { label: '', content: 'x' }, BadInput, /label is empty/],
    ['a 257-character label', { label: 'x'.repeat(257), content: 'x' }, BadInput, /longer than 256/],
    ['a control character', { label: 'public:a\nb', content: 'x' }, BadInput, /control characters/],
    ['a peer: label', { label: 'peer:abc:x', content: 'x' }, BadInput, /reserved for copies pulled from peers/],
    ['empty content', { label: 'public:x', content: '' }, BadInput, /content is empty/],
    ['content over the byte limit', { label: 'public:x', content: 'é'.repeat(2049) }, TooLarge, /4098 bytes, over the limit of 4096 bytes/],
    ['a label that is not a string', { label: 42, content: 'x' }, BadInput, /label must be a string/],
  ] as const)('rejects %s', (_name, input, type, message) => {
    expect(() => store.remember(input as never)).toThrow(type)
    expect(() => store.remember(input as never)).toThrow(message)
  })

  test('accepts a label of exactly 256 characters and content of exactly the limit', () => {
    expect(store.remember({ label: 'x'.repeat(256), content: 'a'.repeat(4096) }).encrypted).toBe(true)
  })
})

describe('remember with original timestamps (import)', () => {
  test('created_at / updated_at are stored as given (normalised); ids, seq and the feed follow insertion', () => {
    const a = store.remember({ label: 'public:late', content: 'a', created_at: '2023-01-02T03:04:05.678Z', updated_at: '2024-06-07T08:09:10.111Z' })
    const b = store.remember({ label: 'note:early', content: 'b', created_at: '2019-12-31T23:00:00+01:00' })
    expect(store.get(a.id)).toMatchObject({ created_at: '2023-01-02T03:04:05.678Z', updated_at: '2024-06-07T08:09:10.111Z' })
    // Offset form normalised to the store's own toISOString() form; updated_at defaults to created_at.
    expect(store.get(b.id)).toMatchObject({ created_at: '2019-12-31T22:00:00.000Z', updated_at: '2019-12-31T22:00:00.000Z', encrypted: true })
    const c = store.remember({ label: 'public:now', content: 'c' })
    expect(store.get(c.id)).toMatchObject({ created_at: '2026-05-26T10:00:00.000Z', updated_at: '2026-05-26T10:00:00.000Z' })
    // Newest first by insertion, not by the (older) original times.
    expect(store.list({}).memories.map((m) => m.id)).toEqual([c.id, b.id, a.id])
    expect(store.changesSince(null, ['public:*'], 10).memories.map((e) => e.id)).toEqual([a.id, c.id])
  })

  test.each([
    [{ created_at: 'yesterday' }, 'invalid created_at: created_at must be an ISO 8601 timestamp'],
    [{ created_at: '2021-02-30T00:00:00Z' }, 'invalid created_at: created_at is not a real date'],
    // In the form the store writes (checked without the schema when valid): the same refusals.
    [{ created_at: '2021-02-29T00:00:00.000Z' }, 'invalid created_at: created_at is not a real date'],
    [{ created_at: '2021-03-01T24:00:00.000Z' }, 'invalid created_at: created_at must be an ISO 8601 timestamp'],
    [{ created_at: '2024-01-01T00:00:00.000Z', updated_at: '2023-12-31T23:59:59.999Z' }, 'invalid updated_at: 2023-12-31T23:59:59.999Z is before created_at'],
    [{ created_at: 1700000000000 }, 'invalid created_at: created_at must be a string'],
    [{ created_at: '1999-12-31T23:59:59.999Z' }, 'invalid created_at: created_at is before 2000'],
    [{ created_at: '2026-05-26T10:06:00.000Z' }, 'invalid created_at: created_at is in the future'],
    [{ created_at: '2024-01-01T00:00:00Z', updated_at: '2023-01-01T00:00:00Z' }, 'invalid updated_at: 2023-01-01T00:00:00.000Z is before created_at'],
    [{ updated_at: '2023-01-01T00:00:00Z' }, 'invalid updated_at: give created_at with it'],
  ])('%j is refused with a BadInput naming the field, and nothing is written', (times, message) => {
    expect(() => store.remember({ label: 'public:x', content: 'x', ...(times as object) })).toThrow(BadInput)
    expect(() => store.remember({ label: 'public:x', content: 'x', ...(times as object) })).toThrow(message)
    expect(store.list({}).memories).toEqual([])
  })

  test('a few minutes of clock skew ahead is accepted', () => {
    const r = store.remember({ label: 'public:x', content: 'x', created_at: '2026-05-26T10:04:59.000Z' })
    expect(store.get(r.id)!.created_at).toBe('2026-05-26T10:04:59.000Z')
  })

  test('the first instant of 2000 and the last allowed one are accepted', () => {
    const r = store.remember({ label: 'public:x', content: 'x', created_at: '2000-01-01T00:00:00.000Z', updated_at: '2026-05-26T10:05:00.000Z' })
    expect(store.get(r.id)).toMatchObject({ created_at: '2000-01-01T00:00:00.000Z', updated_at: '2026-05-26T10:05:00.000Z' })
  })
})

describe('update', () => {
  test('content and label change, encryption follows the new label, updated_at moves', () => {
    const { id } = store.remember({ label: 'public:x', content: 'v1' })
    t.clock.advance(MINUTE_MS)
    const m = store.update(id, { content: 'v2' })!
    expect(m).toMatchObject({ content: 'v2', encrypted: false, created_at: '2026-05-26T10:00:00.000Z', updated_at: '2026-05-26T10:01:00.000Z' })
    const hidden = store.update(id, { label: 'private:x' })!
    expect(hidden).toMatchObject({ label: 'private:x', content: 'v2', encrypted: true })
    expect(String(raw(id)!.content)).toStartWith('AES:')
    expect(store.update(id, { label: 'public:again' })).toMatchObject({ content: 'v2', encrypted: false })
  })

  test('unknown ids give null; empty patches, bad labels and copies are refused', () => {
    expect(store.update('019e63ba-1500-7411-9222-a91ba458b6d4', { content: 'x' })).toBeNull()
    const { id } = store.remember({ label: 'public:x', content: 'v1' })
    expect(() => store.update(id, {})).toThrow(/nothing to update/)
    expect(() => store.update(id, { label: 'peer:x' })).toThrow(BadInput)
    store.applyRemote('6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f', [{ id: 'o1', label: 'public:c', content: 'c', created_at: 'a', updated_at: 'a' }], '1')
    const copy = store.list({ origin: '6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f' }).memories[0]!
    expect(() => store.update(copy.id, { content: 'mine now' })).toThrow(/copies are read-only/)
  })
})

describe('list', () => {
  test('newest first, paged by an opaque cursor, filtered by prefix and origin; no tombstones', () => {
    const ids = ['public:a', 'note:b', 'public:c', 'public:d', 'notebook'].map((label) => store.remember({ label, content: label }).id)
    store.update(ids[0]!, { content: 'touched' }) // moves to the front
    store.forget(ids[3]!) // public:d was shared: a tombstone, never listed
    store.applyRemote('6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f', [{ id: 'o1', label: 'public:c', content: 'c', created_at: 'a', updated_at: 'a' }], '1')

    const labels = (o: Parameters<Store['list']>[0]) => store.list(o).memories.map((m) => m.label)
    expect(labels({})).toEqual(['peer:6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f:public:c', 'public:a', 'notebook', 'public:c', 'note:b'])
    expect(labels({ origin: 'local' })).toEqual(['public:a', 'notebook', 'public:c', 'note:b'])
    expect(labels({ origin: '6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f' })).toEqual(['peer:6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f:public:c'])
    expect(labels({ prefix: 'note' })).toEqual(['notebook', 'note:b'])
    expect(labels({ prefix: 'note:' })).toEqual(['note:b'])
    expect(labels({ prefix: 'public:', origin: 'local' })).toEqual(['public:a', 'public:c'])

    const first = store.list({ limit: 2 })
    expect(first.memories).toHaveLength(2)
    expect(first.cursor).toMatch(/^\d+$/)
    const second = store.list({ limit: 2, cursor: first.cursor })
    const third = store.list({ limit: 2, cursor: second.cursor })
    expect(third.cursor).toBeNull()
    expect([...first.memories, ...second.memories, ...third.memories].map((m) => m.label)).toEqual(labels({}))
  })

  test('a prefix with regex or LIKE characters is literal, and non-ASCII prefixes work', () => {
    store.remember({ label: 'public:50%_off', content: 'x' })
    store.remember({ label: 'public:50xoff', content: 'x' })
    store.remember({ label: 'público:ñ', content: 'x' })
    expect(store.list({ prefix: 'public:50%' }).memories.map((m) => m.label)).toEqual(['public:50%_off'])
    expect(store.list({ prefix: 'públ' }).memories.map((m) => m.label)).toEqual(['público:ñ'])
  })

  test('rejects bad limits and cursors', () => {
    expect(() => store.list({ limit: 0 })).toThrow(BadInput)
    expect(() => store.list({ limit: 501 })).toThrow(/1 to 500/)
    expect(() => store.list({ cursor: 'abc' })).toThrow(/invalid cursor/)
    expect(() => store.list({ cursor: '-1' })).toThrow(BadInput)
    expect(() => store.list({ cursor: '99999999999999999' })).toThrow(BadInput)
  })
})

describe('forget', () => {
  test('a shared memory leaves a tombstone; a never-shared one is gone; both idempotent', () => {
    const pub = store.remember({ label: 'public:x', content: 'x' }).id
    const priv = store.remember({ label: 'note:x', content: 'x' }).id
    expect(store.forget(pub)).toBe(true)
    expect(store.forget(priv)).toBe(true)
    expect(store.forget(pub)).toBe(false)
    expect(store.forget(priv)).toBe(false)
    expect(store.get(pub)).toBeNull()
    expect(raw(pub)).toMatchObject({ label: '', content: '', deleted: 1, shared: 1 })
    expect(raw(priv)).toBeNull()
    expect(store.recall('x')).toEqual([])
    expect(store.stats()).toMatchObject({ memories: 0, tombstones: 1 })
  })
})

describe('stats', () => {
  test('counts own public, own private, copies per peer and tombstones', () => {
    store.remember({ label: 'public:a', content: 'a' })
    store.remember({ label: 'note:b', content: 'b' })
    store.remember({ label: 'note:c', content: 'c' })
    store.forget(store.remember({ label: 'public:d', content: 'd' }).id)
    const e = (id: string) => ({ id, label: 'public:x', content: 'x', created_at: 'a', updated_at: 'a' })
    store.applyRemote('6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f', [e('1'), e('2')], '2')
    store.applyRemote('0a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3', [e('1')], '1')
    expect(store.stats()).toEqual({
      memories: 6,
      public: 1,
      private: 2,
      peer_copies: 3,
      tombstones: 1,
      by_peer: { '6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f': 2, '0a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3': 1 },
    })
  })
})
