import { describe, expect, test } from 'bun:test'
import { BadInput } from '../../src/lib/errors'
import type { Store } from '../../src/store'
import { RECALL_SCORE_BUDGET_ROWS } from '../../src/store/recall'
import { PEER_A, storeEachTest, wire, type TempStores } from './_temp-store'

let t: TempStores
let store: Store
storeEachTest((fresh) => ({ t, store } = fresh))

const labels = (q: string, k?: number) => store.recall(q, k).map((h) => h.label)

describe('recall', () => {
  test('finds public and private memories by their words, whatever the case and accents', () => {
    store.remember({ label: 'public:db', content: 'We chose SQLite for the pod' })
    store.remember({ label: 'note:secret', content: 'The café password is zebracornflakes' })
    expect(labels('sqlite')).toEqual(['public:db'])
    expect(labels('CAFE')).toEqual(['note:secret'])
    expect(labels('Zebracornflakes?')).toEqual(['note:secret'])
    const [hit] = store.recall('zebracornflakes')
    expect(hit).toEqual({
      id: expect.any(String),
      label: 'note:secret',
      content: 'The café password is zebracornflakes',
      score: expect.any(Number),
      peer: null,
      encrypted: true,
    })
    expect(hit!.score).toBeGreaterThan(0)
  })

  test('labels are searchable and weigh more than body text', () => {
    store.remember({ label: 'note:other', content: 'deploy notes mention kubernetes once' })
    store.remember({ label: 'public:kubernetes', content: 'cluster notes' })
    expect(labels('kubernetes')).toEqual(['public:kubernetes', 'note:other'])
  })

  test('more and rarer query words rank first, for public and private alike', () => {
    // Same length everywhere, so only the words decide.
    for (const prefix of ['public:', 'note:']) {
      store.remember({ label: `${prefix}one`, content: 'the migration broke the build again' })
      store.remember({ label: `${prefix}both`, content: 'the migration broke the sqlite index' })
      store.remember({ label: `${prefix}rare`, content: 'the sqlite index broke after lunch' })
      for (let j = 0; j < 5; j++) store.remember({ label: `${prefix}filler${j}`, content: `the migration of table number ${j}` })
    }
    for (const prefix of ['public:', 'note:']) {
      const mine = labels('sqlite migration', 20).filter((l) => l.startsWith(prefix))
      expect(mine.slice(0, 3)).toEqual([`${prefix}both`, `${prefix}rare`, `${prefix}one`])
    }
  })

  test('copies from peers carry their peer id', () => {
    store.applyRemote(PEER_A, [wire('o1', 'public:ops', 'restart the gateway nightly')], '1')
    expect(store.recall('gateway')).toEqual([
      expect.objectContaining({ label: `peer:${PEER_A}:public:ops`, content: 'restart the gateway nightly', peer: PEER_A }),
    ])
  })

  test('FTS syntax in the query is just words', () => {
    store.remember({ label: 'public:x', content: 'near or and not' })
    for (const q of ['"', 'NEAR(a b)', 'a OR', '* ^ :', 'label:x', '(((', "x' OR 1=1 --", 'NOT and']) {
      expect(() => store.recall(q)).not.toThrow()
    }
    expect(labels('NOT and')).toEqual(['public:x'])
  })

  test('no words → no hits; k is bounded', () => {
    store.remember({ label: 'public:x', content: 'alpha' })
    expect(store.recall('')).toEqual([])
    expect(store.recall('  !!! ')).toEqual([])
    for (let i = 0; i < 5; i++) store.remember({ label: `public:${i}`, content: 'alpha beta' })
    expect(store.recall('alpha', 3)).toHaveLength(3)
    expect(() => store.recall('alpha', 0)).toThrow(BadInput)
    expect(() => store.recall('alpha', 101)).toThrow(BadInput)
    expect(() => store.recall('alpha', 1.5)).toThrow(BadInput)
  })

  test('deleted memories and replaced copies leave no stale hits', () => {
    const { id } = store.remember({ label: 'note:x', content: 'ephemeral' })
    store.update(id, { content: 'permanent' })
    expect(labels('ephemeral')).toEqual([])
    expect(labels('permanent')).toEqual(['note:x'])
    store.forget(id)
    expect(labels('permanent')).toEqual([])
    store.applyRemote(PEER_A, [wire('o1', 'public:a', 'first words')], '1')
    store.applyRemote(PEER_A, [wire('o1', 'public:a', 'second words', '2026-05-02T00:00:00.000Z')], '2')
    expect(labels('first')).toEqual([])
    expect(labels('second')).toEqual([`peer:${PEER_A}:public:a`])
  })

  test('past the scoring budget, rare words still win, old or new, and common-only queries still answer', () => {
    store.remember({ label: 'note:old-needle', content: 'common words and one quokka' })
    const n = RECALL_SCORE_BUDGET_ROWS + 500
    const page = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, i) => wire(`c${from + i}`, `public:c${from + i}`, `common filler text ${from + i}`))
    for (let i = 0; i < n; i += 1000) store.applyRemote(PEER_A, page(i, Math.min(n, i + 1000)), String(i))
    store.remember({ label: 'public:new-needle', content: 'common quokka' })
    expect(labels('common quokka', 5).slice(0, 2)).toEqual(['public:new-needle', 'note:old-needle'])
    expect(labels('quokka common filler', 5).slice(0, 2)).toEqual(['public:new-needle', 'note:old-needle'])
    const common = store.recall('common filler', 10)
    expect(common).toHaveLength(10)
    expect(common.map((h) => h.score)).toEqual(common.map((h) => h.score).sort((a, b) => b - a))
  })
})
