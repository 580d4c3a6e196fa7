/**
 * A first pull of several pages between two pod processes. Under the Deno pass both pods run
 * under Deno, whose puller fetches the pages after the first from a worker
 * (src/sync/off-thread-fetch.ts): every shareable memory arrives once, recall finds the last one,
 * and the next pull has nothing new. The pull runs in the store's bulk mode: what it left in the
 * WAL (past 1,000 pages here) is copied back into pod.db by the checkpoint thread, with no
 * further write of the pod's (the puller's wal-index, read from outside: every frame backfilled).
 */
import { expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawnPods } from '../helpers/pod-process'
import { identityOf, pair, syncNow } from '../helpers/federation'

/** Three pages of up to 1,000, imported 250 a request (a request body is capped). */
const N = 2_500
const BATCH = 250
/** About 5 MB of copies: past the 1,000 WAL pages at which the end of a bulk checkpoints off the main thread. */
const FILL = 'x'.repeat(2000)

/** The WAL's frames and how many are backfilled, from the -shm wal-index (bytes 16 and 96). */
function walState(db: string): { frames: number; backfilled: number } {
  const shm = readFileSync(`${db}-shm`)
  return { frames: shm.readUInt32LE(16), backfilled: shm.readUInt32LE(96) }
}

test('a pull of three pages: every memory once, the last one found by recall, then nothing new', async () => {
  await using pods = await spawnPods(2)
  const [a, b] = pods
  const idA = (await identityOf(a)).pod_id
  await pair(a, b)
  for (let from = 0; from < N; from += BATCH) {
    const memories = Array.from({ length: Math.min(BATCH, N - from) }, (_, k) => ({ label: `public:m${from + k}`, content: `memory word${from + k} ${FILL}` }))
    const res = await a.api('POST', '/memories/import', { memories })
    expect(res.body).toMatchObject({ imported: memories.length, failed: [] })
  }

  expect(await syncNow(b)).toEqual([expect.objectContaining({ ok: true, fetched: N, stored: N, deleted: 0 })])
  const db = join(b.home, 'pod.db')
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline && walState(db).backfilled < 1000) await Bun.sleep(20)
  expect(walState(db).backfilled).toBeGreaterThan(1000)
  const recall = await b.api('GET', `/recall?q=word${N - 1}&k=1`)
  expect(recall.body.results.map((r: { label: string }) => r.label)).toEqual([`peer:${idA}:public:m${N - 1}`])
  expect(await syncNow(b)).toEqual([expect.objectContaining({ ok: true, fetched: 0, stored: 0 })])
}, 60_000)
