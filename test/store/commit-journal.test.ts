import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import type { CommittedChange, Store } from '../../src/store'
import { PEER_A, tempStores, wire, type TempStores } from './_temp-store'

let t: TempStores
let store: Store
let seen: CommittedChange[][]
beforeEach(() => {
  t = tempStores()
  store = t.open()
  seen = []
  store.onCommit((c) => seen.push([...c]))
})
afterEach(() => t.cleanup())

const feedOf = () => seen.flat().map((c) => c.feed)

describe('onCommit: what each committed write changed', () => {
  test('remember of a public memory reports its served label; private, AES: and copies report no feed entry', () => {
    store.remember({ label: 'public:a', content: 'x' })
    store.remember({ label: 'secret:b', content: 'hidden' })
    store.remember({ label: 'public:c', content: 'AES:looks encrypted' })
    store.applyRemote(PEER_A, [wire('o1', 'public:theirs', 'copy')], '1')
    expect(seen).toHaveLength(4)
    expect(feedOf()).toEqual([{ served: 'public:a', was: null }, null, null, null])
    const copy = seen[3]![0]!
    expect(copy.op).toBe('insert')
    expect(copy.origin_peer).toBe(PEER_A)
    expect(copy.label).toBe(`peer:${PEER_A}:public:theirs`)
    // Nothing private is carried: a private memory's change has a label but no content.
    expect(JSON.stringify(seen)).not.toContain('hidden')
  })

  test('a secret-held memory reports no feed entry until it is released', () => {
    const { id } = store.remember({ label: 'public:key', content: 'looks like a credential' }, { held: true })
    store.update(id, { label: 'public:key2' })
    expect(feedOf()).toEqual([null, null])
    store.release(id)
    expect(feedOf().at(-1)).toEqual({ served: 'public:key2', was: null })
  })

  test('update and forget report the label the memory was served under, so its tombstone can be matched to a scope', () => {
    const id = store.remember({ label: 'public:a', content: 'x' }).id
    seen = []
    store.update(id, { label: 'public:b' })
    store.update(id, { label: 'secret:c' })
    store.update(id, { content: 'private edit' }) // its tombstone is already out: nothing to tell peers
    store.forget(id)
    expect(feedOf()).toEqual([{ served: 'public:b', was: 'public:a' }, { served: null, was: 'public:b' }, null, null])
    expect(seen.flat().map((c) => c.op)).toEqual(['update', 'update', 'update', 'update'])
    expect(seen.flat().at(-1)!.deleted).toBe(true)
  })

  test('a group commit is one notification after its transaction; a rolled-back write is none', async () => {
    await Promise.all([store.rememberGrouped({ label: 'public:1', content: 'a' }), store.rememberGrouped({ label: 'public:2', content: 'b' })])
    expect(seen).toHaveLength(1)
    expect(seen[0]!.map((c) => c.label)).toEqual(['public:1', 'public:2'])
    // An invalid page rolls back as a whole: no notification, nothing left in the journal.
    expect(() => store.applyRemote(PEER_A, [wire('o1', 'public:x', 'y'), { id: '', deleted: true }], '2')).toThrow()
    expect(seen).toHaveLength(1)
    store.remember({ label: 'public:3', content: 'c' })
    expect(seen.at(-1)!.map((c) => c.label)).toEqual(['public:3'])
  })

  test('the listener runs after the commit: the change is already readable', () => {
    const reads: number[] = []
    store.onCommit(() => reads.push(store.changesSince(null, ['*'], 10).memories.length))
    store.remember({ label: 'public:a', content: 'x' })
    expect(reads).toEqual([1])
  })

  test('purging a peer reports its copies as deleted', () => {
    store.applyRemote(PEER_A, [wire('o1', 'public:x', 'y')], '1')
    seen = []
    store.purgePeer(PEER_A)
    expect(seen.flat().map((c) => [c.op, c.origin_peer, c.feed])).toEqual([['delete', PEER_A, null]])
  })

  test('unsubscribe stops the calls', () => {
    const off = store.onCommit(() => {
      throw new Error('a listener that throws does not fail the write')
    })
    store.remember({ label: 'public:a', content: 'x' })
    off()
    expect(seen).toHaveLength(1)
  })
})
