/**
 * A first pull of several pages between two pod processes. Under the Deno pass both pods run
 * under Deno, whose puller fetches the pages after the first from a worker
 * (src/sync/off-thread-fetch.ts): every shareable memory arrives once, recall finds the last one,
 * and the next pull has nothing new.
 */
import { expect, test } from 'bun:test'
import { spawnPods } from '../helpers/pod-process'
import { identityOf, pair, syncNow } from '../helpers/federation'

/** Three pages of up to 1,000 (the import takes 1,000 a request). */
const N = 2_500
const BATCH = 1_000

test('a pull of three pages: every memory once, the last one found by recall, then nothing new', async () => {
  await using pods = await spawnPods(2)
  const [a, b] = pods
  const idA = (await identityOf(a)).pod_id
  await pair(a, b)
  for (let from = 0; from < N; from += BATCH) {
    const memories = Array.from({ length: Math.min(BATCH, N - from) }, (_, k) => ({ label: `public:m${from + k}`, content: `memory word${from + k}` }))
    const res = await a.api('POST', '/memories/import', { memories })
    expect(res.body).toMatchObject({ imported: memories.length, failed: [] })
  }

  expect(await syncNow(b)).toEqual([expect.objectContaining({ ok: true, fetched: N, stored: N, deleted: 0 })])
  const recall = await b.api('GET', `/recall?q=word${N - 1}&k=1`)
  expect(recall.body.results.map((r: { label: string }) => r.label)).toEqual([`peer:${idA}:public:m${N - 1}`])
  expect(await syncNow(b)).toEqual([expect.objectContaining({ ok: true, fetched: 0, stored: 0 })])
}, 60_000)
