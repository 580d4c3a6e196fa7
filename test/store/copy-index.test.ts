/**
 * Pulled copies get their full-text rows after their page: queued by applyRemote, written by
 * indexPending() / the background indexer, and drained by recall() first, so no search misses
 * a copy, not even right after a pull or after a crash.
 */
import { afterEach, expect, test } from 'bun:test'
import { memoryLogger } from '../../src/lib/log'
import { startBackgroundIndexer } from '../../src/store'
import { PEER_A, tempStores, type TempStores } from './_temp-store'

let t: TempStores
afterEach(() => t.cleanup())

const page = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({
    id: `0190f2a0-0000-7000-8000-${String(from + i).padStart(12, '0')}`,
    label: `public:c${from + i}`,
    content: `copy number ${from + i} about narwhals`,
    created_at: '2026-05-26T10:00:00.000Z',
    updated_at: '2026-05-26T10:00:00.000Z',
  }))

test('a pulled page is queued, and recall right after it still finds every copy', () => {
  t = tempStores()
  const store = t.open()
  store.applyRemote(PEER_A, page(1500), '1500')
  expect(store.hasPendingIndex()).toBe(true)
  const hits = store.recall('narwhals', 100)
  expect(hits).toHaveLength(100)
  expect(hits.every((h) => h.peer === PEER_A)).toBe(true)
  expect(store.hasPendingIndex()).toBe(false)
})

test('indexPending writes batches until the queue is empty; updates and tombstones keep it right', () => {
  t = tempStores()
  const store = t.open()
  store.applyRemote(PEER_A, page(30), '30')
  expect(store.indexPending(20)).toBe(20)
  expect(store.indexPending(20)).toBe(10)
  expect(store.indexPending(20)).toBe(0)
  // An update re-queues the copy with its new words; a tombstone removes it from the queue too.
  store.applyRemote(
    PEER_A,
    [
      { ...page(1)[0]!, content: 'now about walruses' },
      { id: page(2)[1]!.id, deleted: true },
    ],
    '32',
  )
  expect(store.recall('walruses').map((h) => h.label)).toEqual([`peer:${PEER_A}:public:c0`])
  expect(store.recall('narwhals', 100)).toHaveLength(28)
})

test('a queue left by a crash is drained by the background indexer on the next open', async () => {
  t = tempStores()
  const first = t.open()
  first.applyRemote(PEER_A, page(2500), '2500')
  first.close() // as if the pod stopped before indexing
  const store = t.open()
  expect(store.hasPendingIndex()).toBe(true)
  const indexer = startBackgroundIndexer(store, memoryLogger())
  for (let i = 0; i < 200 && store.hasPendingIndex(); i++) await Bun.sleep(5)
  await indexer.close()
  expect(store.hasPendingIndex()).toBe(false)
  expect(store.recall('narwhals', 100)).toHaveLength(100)
})
