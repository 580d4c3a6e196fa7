import { describe, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { BadInput } from '../../src/lib/errors'
import type { Store, WireEntry } from '../../src/store'
import { PEER_A, TEST_PREFIXES, storeEachTest, wire, type TempStores } from './_temp-store'

let t: TempStores
let store: Store
storeEachTest((fresh) => ({ t, store } = fresh))

const feed = (scope = ['*'], since: string | null = null, limit = 1000) => store.changesSince(since, scope, limit)
const full = (id: string, label: string, content: string) => ({
  id,
  label,
  content,
  created_at: '2026-05-26T10:00:00.000Z',
  updated_at: '2026-05-26T10:00:00.000Z',
})
const gone = (id: string) => ({ id, deleted: true as const })

describe('changesSince: the gate', () => {
  test('only public, plaintext, own, non-peer memories are served, whatever the scope', () => {
    const pub = store.remember({ label: 'public:one', content: 'shared' }).id
    const dec = store.remember({ label: 'decision:db', content: 'sqlite' }).id
    store.remember({ label: 'secret:two', content: 'private' })
    store.remember({ label: 'public:three', content: 'AES:looks like ciphertext' })
    store.applyRemote(PEER_A, [wire('o1', 'public:theirs', 'a copy')], '1')
    expect(feed(['*']).memories).toEqual([full(pub, 'public:one', 'shared'), full(dec, 'decision:db', 'sqlite')])
    expect(feed(['*', 'secret:*', 'peer:*']).memories).toHaveLength(2)
    expect(feed(['public:*']).memories).toEqual([full(pub, 'public:one', 'shared'), gone(dec)])
  })

  test('a public memory re-labelled private, or deleted, becomes a tombstone; never-shared ones leave no trace', () => {
    const hide = store.remember({ label: 'public:hide', content: 'x' }).id
    const del = store.remember({ label: 'public:del', content: 'x' }).id
    const priv = store.remember({ label: 'note:p', content: 'x' }).id
    const { cursor } = feed()
    store.update(hide, { label: 'private:hide' })
    store.forget(del)
    store.forget(priv)
    store.update(store.remember({ label: 'note:q', content: 'x' }).id, { content: 'still private' })
    expect(feed(['*'], cursor).memories).toEqual([gone(hide), gone(del)])
    // The full history from 0 shows the same: nothing about note:p or note:q, ever.
    expect(feed().memories).toEqual([gone(hide), gone(del)])
  })

  test('once its tombstone has a place in the feed, private edits and the delete send nothing more', () => {
    const id = store.remember({ label: 'public:x', content: 'v1' }).id
    const served = feed().cursor
    store.update(id, { label: 'note:x' })
    const page = feed(['*'], served)
    expect(page.memories).toEqual([gone(id)])
    for (let i = 2; i < 5; i++) store.update(id, { content: `edit ${i}` })
    store.update(id, { label: 'note:renamed' })
    expect(feed(['*'], page.cursor)).toEqual({ cursor: page.cursor, more: false, memories: [] })
    store.forget(id)
    expect(feed(['*'], page.cursor)).toEqual({ cursor: page.cursor, more: false, memories: [] })
    // A pod pulling from the start sees the one tombstone, once.
    expect(feed().memories).toEqual([gone(id)])
  })

  test('a public memory re-published after going private is served, then tombstoned once more when deleted', () => {
    const id = store.remember({ label: 'public:x', content: 'v1' }).id
    store.update(id, { label: 'note:x' })
    store.update(id, { content: 'private edit' })
    const before = feed().cursor
    store.update(id, { label: 'public:y' })
    const page = feed(['*'], before)
    expect(page.memories).toEqual([{ ...full(id, 'public:y', 'private edit'), updated_at: expect.any(String) }])
    store.forget(id)
    expect(feed(['*'], page.cursor).memories).toEqual([gone(id)])
  })

  test('re-labelled back to public, the memory is served again', () => {
    const id = store.remember({ label: 'public:x', content: 'v1' }).id
    store.update(id, { label: 'note:x' })
    const { cursor } = feed()
    store.update(id, { label: 'public:x' })
    expect(feed(['*'], cursor).memories).toEqual([{ ...full(id, 'public:x', 'v1'), updated_at: expect.any(String) }])
  })

  test('a private memory made public by update is served from then on', () => {
    const id = store.remember({ label: 'note:x', content: 'v1' }).id
    expect(feed().memories).toEqual([])
    store.update(id, { label: 'public:x' })
    expect(feed().memories).toEqual([full(id, 'public:x', 'v1')])
  })
})

describe('changesSince: paging', () => {
  test('pages in change order with cursor and more; an update moves a memory to the end', () => {
    const ids = Array.from({ length: 5 }, (_, i) => store.remember({ label: `public:${i}`, content: `c${i}` }).id)
    store.update(ids[0]!, { content: 'c0 v2' })
    const seen: WireEntry[] = []
    let since: string | null = null
    let pages = 0
    for (;;) {
      const page = feed(['*'], since, 2)
      pages++
      seen.push(...page.memories)
      expect(page.cursor).toMatch(/^\d+$/)
      since = page.cursor
      if (!page.more) break
    }
    expect(pages).toBe(3)
    expect(seen.map((e) => e.id)).toEqual([...ids.slice(1), ids[0]!])
    expect(feed(['*'], since)).toEqual({ cursor: since!, more: false, memories: [] })
    expect(feed(['*'], '0', 1).more).toBe(true)
  })

  test('a scope matching nothing still pages through the feed: at most `limit` rows per page, the cursor moving', () => {
    // Out-of-scope rows go out as tombstones, so what one request examines is bounded by its
    // limit whatever the scope, and a puller never sees more=true with a cursor that stays put.
    const ids = Array.from({ length: 2500 }, (_, i) => store.remember({ label: `public:n${i}`, content: `c${i}` }).id)
    const read = (scope: string[]) => {
      const entries: WireEntry[] = []
      const cursors: string[] = []
      let since: string | null = null
      for (;;) {
        const page = feed(scope, since, 1000)
        expect(page.memories.length).toBeLessThanOrEqual(1000)
        if (page.more) expect(page.cursor).not.toBe(since ?? '0')
        entries.push(...page.memories)
        cursors.push(page.cursor)
        since = page.cursor
        if (!page.more) return { entries, cursors }
      }
    }
    const nothing = read(['public:*?a?a?a?#', `*${'?'.repeat(100)}#`])
    const plain = read(['public:*'])
    expect(nothing.cursors).toEqual(plain.cursors)
    expect(nothing.cursors.length).toBe(3)
    expect(nothing.entries.map((e) => e.id)).toEqual(ids)
    expect(nothing.entries.every((e) => 'deleted' in e)).toBe(true)
    expect(plain.entries.map((e) => e.id)).toEqual(ids)
  })

  test('nothing new answers the same cursor ("0" from the start)', () => {
    expect(feed()).toEqual({ cursor: '0', more: false, memories: [] })
    expect(feed(['*'], '0')).toEqual({ cursor: '0', more: false, memories: [] })
  })

  test('bad cursors, limits and scopes are BadInput', () => {
    expect(() => feed(['*'], 'abc')).toThrow(BadInput)
    expect(() => feed(['*'], '-1')).toThrow(BadInput)
    expect(() => feed(['*'], '1.5')).toThrow(BadInput)
    expect(() => feed(['*'], null, 0)).toThrow(BadInput)
    expect(() => feed(['*'], null, 1001)).toThrow(BadInput)
    expect(() => feed('public:*' as never)).toThrow(BadInput)
  })
})

describe('public_prefixes changed between opens', () => {
  test('memories that left the gate are re-sent as tombstones, and served again when they come back (after the credential scan)', async () => {
    const dec = store.remember({ label: 'decision:db', content: 'sqlite' }).id
    store.remember({ label: 'public:x', content: 'x' })
    const { cursor } = feed()
    store.close()

    const narrower = t.open({ publicPrefixes: ['public:'] })
    expect(narrower.changesSince(cursor, ['*'], 100).memories).toEqual([gone(dec)])
    const after = narrower.changesSince(cursor, ['*'], 100).cursor
    narrower.close()

    const again = t.open({ publicPrefixes: TEST_PREFIXES })
    expect(again.changesSince(after, ['*'], 100).memories).toEqual([])
    await again.settleUnscanned()
    expect(again.changesSince(after, ['*'], 100).memories).toEqual([full(dec, 'decision:db', 'sqlite')])
    // Re-opening with the same prefixes changes nothing.
    const last = again.changesSince(after, ['*'], 100).cursor
    again.close()
    expect(t.open().changesSince(last, ['*'], 100).memories).toEqual([])
  })
})

test('the feed reads shared rows through the partial index', () => {
  const db = new Database(t.path, { readonly: true })
  const plan = db.query('EXPLAIN QUERY PLAN SELECT id FROM memories WHERE shared = 1 AND feed_seq > 0 ORDER BY feed_seq LIMIT 10').all() as { detail: string }[]
  db.close()
  expect(plan.map((p) => p.detail).join(' ')).toContain('memories_feed')
})
