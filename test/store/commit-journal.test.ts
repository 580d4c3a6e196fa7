import { describe, expect, test } from 'bun:test'
import type { CommittedChange, Store } from '../../src/store'
import { PEER_A, storeEachTest, wire } from './_temp-store'

let store: Store
let seen: CommittedChange[][]
storeEachTest((fresh) => {
  store = fresh.store
  seen = []
  // As the panel's stream and `mazemaker watch` listen: pulled copies included.
  store.onCommit((c) => seen.push([...c]), { copies: true })
})

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

describe('pulled copies are journalled only while a listener wants them', () => {
  let s2: Store
  storeEachTest((fresh) => (s2 = fresh.store))
  const page = (n: number, from = 0) => Array.from({ length: n }, (_, i) => wire(`o${from + i}`, `public:${from + i}`, 'copy'))

  test('with only own-memory listeners (long-poll waiters), a pull writes no journal row; own writes still notify', () => {
    const own: CommittedChange[][] = []
    s2.onCommit((c) => own.push([...c]))
    s2.remember({ label: 'public:mine', content: 'x' })
    const rowsBefore = s2.journalStats().rows
    expect(rowsBefore).toBe(1)
    s2.applyRemote(PEER_A, page(50), '1')
    s2.applyRemote(PEER_A, [{ id: 'o3', deleted: true }], '2') // a tombstone deletes the copy at the end of the pull
    s2.purgePeer(PEER_A)
    expect(s2.journalStats()).toEqual({ rows: rowsBefore, copies: false })
    expect(own.flat().map((c) => c.label)).toEqual(['public:mine'])
    s2.remember({ label: 'public:after', content: 'y' })
    expect(own.flat().map((c) => [c.label, c.feed?.served])).toEqual([
      ['public:mine', 'public:mine'],
      ['public:after', 'public:after'],
    ])
  })

  test('a copies listener sees every copy committed after it subscribed; after it leaves, copies cost nothing again', () => {
    const own: CommittedChange[][] = []
    s2.onCommit((c) => own.push([...c]))
    s2.applyRemote(PEER_A, page(10), '1')
    const all: CommittedChange[][] = []
    const off = s2.onCommit((c) => all.push([...c]), { copies: true })
    s2.applyRemote(PEER_A, page(20, 10), '2')
    expect(s2.journalStats().copies).toBe(true)
    expect(all.flat().map((c) => c.origin_peer === PEER_A && c.op === 'insert')).toEqual(Array(20).fill(true))
    // The own-memory listener is not handed copies even while they are journalled for another.
    expect(own).toEqual([])
    off()
    const rows = s2.journalStats().rows
    s2.applyRemote(PEER_A, page(20, 30), '3')
    expect(s2.journalStats()).toEqual({ rows, copies: false })
    expect(all.flat()).toHaveLength(20)
  })

  test('race: a client that subscribes inside a commit notification (between two pull pages) gets the next page whole', () => {
    // A listener runs right after a commit, before the next write can begin: the tightest spot a
    // subscription can land in a single-threaded pod. The next page must reach it in full.
    const late: CommittedChange[][] = []
    let lateOn = false
    s2.onCommit(() => {
      if (lateOn) return
      lateOn = true
      s2.onCommit((c) => late.push([...c]), { copies: true })
    })
    s2.remember({ label: 'public:wake', content: 'x' })
    expect(lateOn).toBe(true)
    s2.applyRemote(PEER_A, page(30), '1')
    expect(late.flat().map((c) => c.id).length).toBe(30)
  })

  test('flapping subscribers: the mode in force at each write is what counts', () => {
    const a: CommittedChange[][] = []
    const offA = s2.onCommit((c) => a.push([...c]), { copies: true })
    offA()
    const b: CommittedChange[][] = []
    s2.onCommit((c) => b.push([...c]), { copies: true })
    s2.applyRemote(PEER_A, page(5), '1')
    expect(a).toEqual([])
    expect(b.flat()).toHaveLength(5)
  })
})
