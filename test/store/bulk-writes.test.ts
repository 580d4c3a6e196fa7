/**
 * Bulk mode (src/store/bulk-writes.ts): while a pull of many pages runs, FTS5 does no merge work
 * at each page's commit and the WAL is not copied back every 1,000 pages; every copy is still
 * searchable at once. Afterwards the background indexer's steps merge and checkpoint, and a
 * crash in bulk mode leaves nothing switched off at the next open.
 */
import { expect, test } from 'bun:test'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { memoryLogger } from '../../src/lib/log'
import { startBackgroundIndexer } from '../../src/store'
import { automergeInFile, segmentsHeld } from './_fts-segments'
import { PEER_A, PEER_B, tempStores } from './_temp-store'

const AT = '2026-05-26T10:00:00.000Z'
const page = (n: number, from: number, content = (i: number) => `copy number ${i} about narwhals`) =>
  Array.from({ length: n }, (_, k) => ({
    id: `0190f2a0-0000-7000-8000-${String(from + k).padStart(12, '0')}`,
    label: `public:c${from + k}`,
    content: content(from + k),
    created_at: AT,
    updated_at: AT,
  }))

test('in bulk every page stays a segment of its own (no merge work at its commit), each copy searchable at once; the steps afterwards merge them', () => {
  const PAGES = 12 // under FTS5's crisis merge (16 segments on a level)
  using t = tempStores()
  const store = t.open()
  const end = store.beginBulk()
  expect(automergeInFile(t.path)).toBe(0)
  for (let p = 0; p < PAGES; p++) {
    store.applyRemote(
      PEER_A,
      page(50, p * 50, (i) => `copy ${i} about narwhals page${p}`),
      String((p + 1) * 50),
      { final: false },
    )
    expect(store.recall(`page${p}`, 100)).toHaveLength(50)
  }
  expect(segmentsHeld(t.path)).toBe(PAGES)
  expect(store.tidyStep()).toBe(false) // nothing to do while the bulk runs
  end()
  end() // idempotent
  expect(automergeInFile(t.path)).toBe(4)
  let steps = 0
  while (store.tidyStep()) steps++
  expect(steps).toBeGreaterThan(0)
  expect(segmentsHeld(t.path)).toBeLessThan(4)
  for (let p = 0; p < PAGES; p++) expect(store.recall(`page${p}`, 100)).toHaveLength(50)
  expect(store.tidyStep()).toBe(false)
})

test('in bulk the WAL grows past 1,000 pages before a commit copies it back; outside, it does not', () => {
  const walAfter = (bulk: boolean) => {
    using t = tempStores()
    const store = t.open()
    const end = bulk ? store.beginBulk() : () => {}
    // About 6 MB of copies in 3 pages, past the 1,000-page (4 MB) default.
    const big = (i: number) => `copy ${i} `.padEnd(2000, 'x')
    for (let p = 0; p < 3; p++) store.applyRemote(PEER_A, page(1000, p * 1000, big), String((p + 1) * 1000), { final: false })
    const size = statSync(`${t.path}-wal`).size
    end()
    return size
  }
  const fourMb = 1000 * 4096
  expect(walAfter(false)).toBeLessThan(fourMb * 1.6)
  expect(walAfter(true)).toBeGreaterThan(fourMb * 1.4)
})

/**
 * The WAL's frames and how many of them are copied back into pod.db, from the wal-index (the
 * -shm file, SQLite's "WAL-index format"): the header's mxFrame at byte 16, the checkpoint
 * info's nBackfill at byte 96, both native-endian.
 */
function walState(path: string): { frames: number; backfilled: number } {
  const shm = readFileSync(`${path}-shm`)
  return { frames: shm.readUInt32LE(16), backfilled: shm.readUInt32LE(96) }
}

test('after a bulk the next write does not copy the WAL back on the main thread (the pull would wait for it): a thread of its own does', async () => {
  using t = tempStores()
  const store = t.open()
  const end = store.beginBulk()
  const big = (i: number) => `copy ${i} `.padEnd(2000, 'x')
  for (let p = 0; p < 3; p++) store.applyRemote(PEER_A, page(1000, p * 1000, big), String((p + 1) * 1000), { final: p === 2 })
  end()
  store.recordPull(PEER_A, { ok: true, at: AT }) // what the sync loop writes as the pull ends
  const after = walState(t.path)
  expect(after.frames).toBeGreaterThan(1000)
  expect(after.backfilled).toBeLessThan(after.frames)
  const deadline = Date.now() + 5000
  while (walState(t.path).backfilled < after.frames && Date.now() < deadline) await Bun.sleep(5)
  expect(walState(t.path).backfilled).toBeGreaterThanOrEqual(after.frames)
  // Back to the connection's own checkpoints: the next write starts the WAL over.
  store.recordPull(PEER_A, { ok: true, at: '2026-05-26T10:05:00.000Z' })
  expect(walState(t.path).frames).toBeLessThan(10)
  expect(store.recall('copy', 100)).toHaveLength(100)
})

test('a store closed right as a bulk ends leaves no thread behind: the process exits', async () => {
  using t = tempStores()
  const store = join(import.meta.dir, '..', '..', 'src', 'store', 'index.ts')
  const clock = join(import.meta.dir, '..', '..', 'src', 'lib', 'clock.ts')
  // What a pod does when it stops right after a pull: the WAL is past 1,000 pages, so the bulk's
  // end hands it to the checkpoint thread, and close() comes in the same turn.
  const script = `
    const { openStore } = await import(${JSON.stringify(store)})
    const { systemClock } = await import(${JSON.stringify(clock)})
    const s = openStore({ path: ${JSON.stringify(t.path)}, vaultKey: new Uint8Array(32).fill(7), publicPrefixes: ['public:'], maxContentBytes: 65536, clock: systemClock, durable: false })
    const end = s.beginBulk()
    const at = '2026-05-26T10:00:00.000Z'
    for (let p = 0; p < 3; p++) {
      const page = Array.from({ length: 1000 }, (_, k) => ({ id: '0190f2a0-0000-7000-8000-' + String(p * 1000 + k).padStart(12, '0'), label: 'public:c' + k, content: 'copy '.padEnd(2000, 'x'), created_at: at, updated_at: at }))
      s.applyRemote(${JSON.stringify(PEER_A)}, page, String((p + 1) * 1000), { final: p === 2 })
    }
    end()
    s.close()
    console.log('closed')
  `
  const proc = Bun.spawn([process.execPath, '-e', script], { stdout: 'pipe', stderr: 'pipe' })
  // A process that does not exit is killed (its own PID) after 10 s, and the test fails.
  const guard = setTimeout(() => proc.kill('SIGKILL'), 10_000)
  const exited = await proc.exited
  clearTimeout(guard)
  expect({ exited, signal: proc.signalCode, stdout: (await new Response(proc.stdout).text()).trim() }).toEqual({ exited: 0, signal: null, stdout: 'closed' })
}, 15_000)

test('two pulls in bulk at once: the mode ends with the last of them', () => {
  using t = tempStores()
  const store = t.open()
  const endA = store.beginBulk()
  const endB = store.beginBulk()
  store.applyRemote(PEER_A, page(10, 0), '10', { final: false })
  store.applyRemote(PEER_B, page(10, 100), '10', { final: false })
  endA()
  endA()
  expect(automergeInFile(t.path)).toBe(0)
  expect(store.tidyStep()).toBe(false)
  endB()
  expect(automergeInFile(t.path)).toBe(4)
})

test('a store closed in bulk (as by a crash) has automerge back on at its next open', () => {
  using t = tempStores()
  const store = t.open()
  store.beginBulk()
  store.applyRemote(PEER_A, page(10, 0), '10', { final: false })
  store.close()
  expect(automergeInFile(t.path)).toBe(0)
  const again = t.open()
  expect(automergeInFile(t.path)).toBe(4)
  expect(again.recall('narwhals', 100)).toHaveLength(10)
})

test('the background indexer does the steps after a bulk', async () => {
  using t = tempStores()
  const store = t.open()
  const end = store.beginBulk()
  for (let p = 0; p < 12; p++) store.applyRemote(PEER_A, page(20, p * 20), String((p + 1) * 20), { final: false })
  end()
  const indexer = startBackgroundIndexer(store, memoryLogger())
  indexer.kick()
  const deadline = Date.now() + 5000
  while (segmentsHeld(t.path) >= 4 && Date.now() < deadline) await Bun.sleep(5)
  await indexer.close()
  expect(segmentsHeld(t.path)).toBeLessThan(4)
})
