import { describe, expect, test } from 'bun:test'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { Store } from '../../src/store'
import { PEER_A, tempStoresEachTest, wire, type TempStores } from './_temp-store'

let t: TempStores
tempStoresEachTest((fresh) => (t = fresh))

/** Bytes of pod.db, pod.db-wal and pod.db-shm, as far as they exist. */
function diskBytes(): Record<string, Buffer> {
  const out: Record<string, Buffer> = {}
  for (const f of ['pod.db', 'pod.db-wal', 'pod.db-shm']) {
    const p = join(t.dir, f)
    if (existsSync(p)) out[f] = readFileSync(p)
  }
  return out
}
const onDisk = (word: string) => Object.values(diskBytes()).some((b) => b.includes(word))

describe('private plaintext never touches the disk', () => {
  test('absent from pod.db, -wal and -shm before and after a checkpoint, while public text is there', () => {
    const store = t.open()
    const priv = store.remember({ label: 'note:breakfast', content: 'I had zebracornflakes with quokkamilk' })
    store.remember({ label: 'public:menu', content: 'the canteen serves platypuspancakes' })
    // Updates and a recall go through the same paths (re-encrypt, re-index, query terms).
    store.update(priv.id, { content: 'I had zebracornflakes with quokkamilk, twice' })
    expect(store.recall('zebracornflakes')).toHaveLength(1)
    expect(Object.keys(diskBytes())).toContain('pod.db-wal')
    expect(onDisk('zebracornflakes')).toBe(false)
    expect(onDisk('quokkamilk')).toBe(false)
    expect(onDisk('platypuspancakes')).toBe(true)

    store.checkpoint()
    expect(statSync(join(t.dir, 'pod.db-wal')).size).toBe(0)
    expect(diskBytes()['pod.db']!.includes('platypuspancakes')).toBe(true)
    expect(onDisk('zebracornflakes')).toBe(false)
    expect(onDisk('quokkamilk')).toBe(false)

    store.forget(priv.id)
    store.close()
    expect(onDisk('zebracornflakes')).toBe(false)
  })

  test('a re-opened store with the same vault key reads private memories back', () => {
    const first = t.open()
    const { id } = first.remember({ label: 'note:x', content: 'persisted secret' })
    first.close()
    expect(t.open().get(id)?.content).toBe('persisted secret')
  })
})

describe('several connections on one file', () => {
  test('two Store instances see each other’s writes and share one change sequence', () => {
    const a = t.open()
    const b = t.open()
    const ids: string[] = []
    for (let i = 0; i < 10; i++) ids.push((i % 2 ? a : b).remember({ label: `public:${i}`, content: `word${i}` }).id)
    expect(b.get(ids[0]!)?.content).toBe('word0')
    expect(a.recall('word3').map((h) => h.id)).toEqual([ids[3]!])
    const feed = a.changesSince(null, ['*'], 100).memories.map((e) => e.id)
    expect(feed).toEqual(ids) // one strictly increasing seq across both connections
    b.applyRemote(PEER_A, [wire('o1', 'public:x', 'copied')], '1')
    expect(a.peerState(PEER_A).cursor).toBe('1')
    expect(a.forget(ids[1]!)).toBe(true)
    expect(b.forget(ids[1]!)).toBe(false)
    expect(b.stats()).toMatchObject({ memories: 10, tombstones: 1, peer_copies: 1 })
  })

  test('another process writing at the same time: nothing lost, no SQLITE_BUSY', async () => {
    const store = t.open()
    const N = 400
    const script = `
      import { openStore } from ${JSON.stringify(join(import.meta.dir, '../../src/store'))}
      import { FakeClock } from ${JSON.stringify(join(import.meta.dir, '../../src/lib/clock'))}
      const s = openStore({ path: process.env.DB, vaultKey: Buffer.from(process.env.KEY, 'hex'),
        publicPrefixes: ['public:'], maxContentBytes: 1000, clock: new FakeClock(), durable: false })
      process.stdout.write('ready\\n')
      for (let i = 0; i < ${N}; i++) s.remember({ label: i % 2 ? 'public:child' : 'note:child', content: 'from the child ' + i })
      s.close()
    `
    const child = Bun.spawn([process.execPath, '--eval', script], {
      env: { ...process.env, DB: t.path, KEY: Buffer.from(t.vaultKey).toString('hex') },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    // Start writing once the child has the database open, so both write at once.
    await child.stdout.getReader().read()
    for (let i = 0; i < N; i++) store.remember({ label: i % 2 ? 'public:parent' : 'note:parent', content: `from the parent ${i}` })
    expect(await child.exited).toBe(0)
    expect(await new Response(child.stderr).text()).toBe('')
    expect(store.stats()).toMatchObject({ memories: 2 * N, private: N, public: N })
    expect(store.recall('child', 100)).toHaveLength(100)
    expect(store.changesSince(null, ['*'], 1000).memories).toHaveLength(N)
  })
})

describe('lifecycle', () => {
  test('close() checkpoints and is idempotent', () => {
    const store: Store = t.open()
    store.remember({ label: 'public:x', content: 'x' })
    store.close()
    store.close()
    expect(existsSync(join(t.dir, 'pod.db-wal')) ? statSync(join(t.dir, 'pod.db-wal')).size : 0).toBe(0)
  })

  test('an in-memory store works (no file, no WAL)', () => {
    const store = t.open({ path: ':memory:' })
    const { id } = store.remember({ label: 'note:x', content: 'kept in memory' })
    expect(store.recall('memory').map((h) => h.id)).toEqual([id])
    expect(existsSync(t.path)).toBe(false)
  })

  test('a wrong-length vault key is refused before the database is opened', () => {
    expect(() => t.open({ vaultKey: new Uint8Array(16) })).toThrow(/32 bytes/)
    expect(existsSync(t.path)).toBe(false)
  })
})
