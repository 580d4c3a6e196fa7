/** rememberGrouped: concurrent writes share one transaction; bad input fails alone. */
import { expect, test } from 'bun:test'
import { BadInput } from '../../src/lib/errors'
import { tempStores } from './_temp-store'

test('concurrent writes all land, in one transaction, and a bad one is rejected alone', async () => {
  using t = tempStores()
  const store = t.open()
  const watcher = t.open() // a second connection sees only committed data
  const writes = Array.from({ length: 100 }, (_, i) => store.rememberGrouped({ label: i % 2 ? `public:g${i}` : `note:g${i}`, content: `grouped ${i}` }))
  const bad = store.rememberGrouped({ label: 'peer:x', content: 'reserved label' })
  // Nothing is committed before the batch's turn of the event loop...
  expect(watcher.stats().memories).toBe(0)
  await expect(bad).rejects.toBeInstanceOf(BadInput)
  const results = await Promise.all(writes)
  // ...and then everything is, at once.
  expect(new Set(results.map((r) => r.id)).size).toBe(100)
  expect(watcher.stats()).toMatchObject({ public: 50, private: 50 })
  expect(watcher.get(results[3]!.id)?.content).toBe('grouped 3')
  expect(results[0]!.encrypted).toBe(true)
})
