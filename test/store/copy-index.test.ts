/**
 * Pulled copies get their full-text rows in their page's own transaction, written together after
 * the page's other writes (one FTS5 segment per page, not one per copy). A queue that an older
 * version left in fts_pending is still drained: by the background indexer and by recall() first.
 */
import { Database } from 'bun:sqlite'
import { expect, test } from 'bun:test'
import { memoryLogger } from '../../src/lib/log'
import { startBackgroundIndexer } from '../../src/store'
import { tokenize } from '../../src/store/blind-index'
import { PENDING_BATCH } from '../../src/store/copy-index'
import { segmentsWritten } from './_fts-segments'
import { PEER_A, tempStores } from './_temp-store'

const page = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({
    id: `0190f2a0-0000-7000-8000-${String(from + i).padStart(12, '0')}`,
    label: `public:c${from + i}`,
    content: `copy number ${from + i} about narwhals`,
    created_at: '2026-05-26T10:00:00.000Z',
    updated_at: '2026-05-26T10:00:00.000Z',
  }))

test('a pulled page is searchable as soon as it is stored, with nothing queued', () => {
  using t = tempStores()
  const store = t.open()
  store.applyRemote(PEER_A, page(1500), '1500')
  expect(store.hasPendingIndex()).toBe(false)
  const hits = store.recall('narwhals', 100)
  expect(hits).toHaveLength(100)
  expect(hits.every((h) => h.peer === PEER_A)).toBe(true)
  // The origin label is indexed, not the peer:<id>: prefix.
  expect(store.recall('c1499').map((h) => h.label)).toEqual([`peer:${PEER_A}:public:c1499`])
})

test("a page's full-text rows are written together, not a segment per copy", () => {
  using t = tempStores()
  const store = t.open()
  // Written between the copies' inserts, 300 rows made over 300 segments (one per copy);
  // together they make a handful (the page's flush, and whatever merging that starts).
  for (let p = 0; p < 3; p++) {
    const before = segmentsWritten(t.path)
    store.applyRemote(PEER_A, page(300, p * 300), String((p + 1) * 300))
    store.checkpoint()
    expect(segmentsWritten(t.path) - before).toBeLessThan(10)
  }
  expect(store.recall('narwhals', 100)).toHaveLength(100)
})

test('updates and tombstones keep the full-text rows right', () => {
  using t = tempStores()
  const store = t.open()
  store.applyRemote(PEER_A, page(30), '30')
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

test('non-ASCII copies are indexed through our own tokenizer: folded, diacritics stripped', () => {
  using t = tempStores()
  const store = t.open()
  store.applyRemote(PEER_A, [{ ...page(1)[0]!, label: 'public:Café', content: 'Über NAÏVE façade' }], '1')
  for (const q of ['cafe', 'uber', 'naive', 'facade', 'FAÇADE']) expect(store.recall(q)).toHaveLength(1)
})

test('each copy has exactly the tokens of its origin label and content, whether its row is written from the stored row or through our tokenizer', () => {
  using t = tempStores()
  const store = t.open()
  store.applyRemote(PEER_A, page(40), '40')
  const mixed = page(60, 40).map((c, i) => (i % 3 === 0 ? { ...c, label: `public:Café${i}`, content: `Über ﬁnance façade ${i}` } : c))
  // Edits of copies held since the first page: their pks are not next to the new ones.
  mixed.splice(10, 0, { ...page(1, 5)[0]!, content: 'edited five', updated_at: '2026-05-27T10:00:00.000Z' })
  mixed.splice(30, 0, { ...page(1, 7)[0]!, label: 'public:Renamed7', content: 'Naïve seven', updated_at: '2026-05-27T10:00:00.000Z' })
  store.applyRemote(PEER_A, mixed, '100')
  store.checkpoint()

  const raw = new Database(t.path, { readonly: true })
  const rows = raw.query('SELECT pk, label, content, origin_peer FROM memories').all() as { pk: number; label: string; content: string; origin_peer: string }[]
  raw.exec('CREATE VIRTUAL TABLE temp.terms USING fts5vocab(main, memories_fts, instance)')
  const indexed = new Map<number, string[]>()
  for (const r of raw.query(`SELECT doc, term FROM temp.terms ORDER BY doc, col = 'body', offset`).all() as { doc: number; term: string }[]) {
    indexed.set(r.doc, [...(indexed.get(r.doc) ?? []), r.term])
  }
  raw.close()
  expect(rows).toHaveLength(100)
  for (const r of rows) {
    const origin = r.label.slice(`peer:${r.origin_peer}:`.length)
    expect(indexed.get(r.pk)).toEqual([...tokenize(origin), ...tokenize(r.content)])
  }
  expect(indexed.size).toBe(100)
})

test('a queue an older version left in fts_pending is drained by the background indexer and by recall', async () => {
  using t = tempStores()
  const first = t.open()
  first.applyRemote(PEER_A, page(2500), '2500')
  first.close()
  // As an older version left it: the copies stored, their full-text rows not yet written.
  const raw = new Database(t.path)
  raw.run('INSERT INTO fts_pending (pk) SELECT pk FROM memories')
  raw.run('DELETE FROM memories_fts')
  raw.close()

  const store = t.open()
  expect(store.hasPendingIndex()).toBe(true)
  expect(store.indexPending(20)).toBe(20)
  const indexer = startBackgroundIndexer(store, memoryLogger())
  for (let i = 0; i < 200 && store.hasPendingIndex(); i++) await Bun.sleep(5)
  await indexer.close()
  expect(store.hasPendingIndex()).toBe(false)
  expect(store.recall('narwhals', 100)).toHaveLength(100)

  // recall drains what is left before it searches.
  const again = new Database(t.path)
  again.run('INSERT INTO fts_pending (pk) SELECT pk FROM memories WHERE pk > 2400')
  again.run('DELETE FROM memories_fts WHERE rowid > 2400')
  again.close()
  expect(store.recall('c2450').map((h) => h.label)).toEqual([`peer:${PEER_A}:public:c2450`])
  expect(store.hasPendingIndex()).toBe(false)
})

test('the queue is read first, not every memory: the background indexer reads it after each pull that stored a copy', () => {
  using t = tempStores()
  const store = t.open()
  store.applyRemote(PEER_A, page(300), '300')
  // Closing runs PRAGMA optimize, as every pod's close does: sqlite_stat1 then knows memories and
  // not the empty queue, and SQLite read all of memories (35 ms a call on 250k) to join the queue.
  store.close()
  const db = new Database(t.path, { readonly: true })
  try {
    expect(db.query("SELECT 1 FROM sqlite_stat1 WHERE tbl = 'memories'").get()).not.toBeNull()
    const plan = (db.query(`EXPLAIN QUERY PLAN ${PENDING_BATCH}`).all(1000) as { detail: string }[]).map((r) => r.detail)
    expect(plan).toEqual(['SCAN p', 'SEARCH m USING INTEGER PRIMARY KEY (rowid=?)'])
  } finally {
    db.close()
  }
})
