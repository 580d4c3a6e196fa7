/**
 * public_prefixes changed in pod.toml between two opens: memories whose label
 * is no longer public are re-encrypted, blind-indexed and tombstoned to peers, and no plaintext
 * is left in pod.db, -wal or -shm; memories whose label became public are decrypted and served.
 */
import { describe, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { existsSync, readFileSync } from 'node:fs'
import { createLogger } from '../../src/lib/log'
import { VAULT_PREFIX, type Store } from '../../src/store'
import { createContext } from '../../src/store/_context'
import { createBlindIndex } from '../../src/store/blind-index'
import { openDatabase } from '../../src/store/database'
import { reconcilePrefixes } from '../../src/store/prefix-change'
import { createVault } from '../../src/store/vault'
import { tempStoresEachTest, type TempStores } from './_temp-store'

const WITH_AUTO = ['public:', 'auto:']
const WITHOUT_AUTO = ['public:']
const gone = (id: string) => ({ id, deleted: true as const })

let t: TempStores
tempStoresEachTest((fresh) => (t = fresh))

/** Where the marker occurs in the raw bytes of pod.db and its -wal and -shm. */
function rawHits(path: string, marker: string): string[] {
  const hits: string[] = []
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(path + suffix) && readFileSync(path + suffix).includes(Buffer.from(marker))) hits.push('pod.db' + suffix)
  }
  return hits
}

function rawRow(path: string, id: string) {
  const db = new Database(path, { readonly: true })
  try {
    return db.query('SELECT content, encrypted FROM memories WHERE id = ?').get(id) as { content: string; encrypted: number }
  } finally {
    db.close()
  }
}

describe('a prefix removed', () => {
  test('auto: memories become private: vault ciphertext, blind index, one tombstone each, no plaintext left on disk', () => {
    const marker = 'zqxmarker' + crypto.randomUUID().replaceAll('-', '')
    const store = t.open({ publicPrefixes: WITH_AUTO, maxContentBytes: 65536 })
    const ids: string[] = []
    // Enough rows for several FTS segments and overflow pages, plus the marker in label-free content.
    for (let i = 0; i < 300; i++) {
      ids.push(store.remember({ label: `auto:note-${i}`, content: `session ${i} mentions ${marker} and the word walrus${i % 7}` }).id)
    }
    const pub = store.remember({ label: 'public:stays', content: 'still public' }).id
    store.remember({ label: 'auto:big', content: `${marker} `.repeat(400) }) // overflow pages
    const served = store.changesSince(null, ['*'], 1000)
    expect(served.memories).toHaveLength(302)
    store.close()
    expect(rawHits(t.path, marker)).toContain('pod.db') // the test can see plaintext when it is there

    const lines: string[] = []
    const after = t.open({ publicPrefixes: WITHOUT_AUTO, log: createLogger({ sink: (l) => lines.push(l) }) })
    // Still readable and searchable through the API, now private.
    const m = after.get(ids[5]!)!
    expect(m.encrypted).toBe(true)
    expect(m.content).toContain(marker)
    expect(after.recall(marker, 5).map((h) => h.encrypted)).toEqual([true, true, true, true, true])
    expect(after.recall('walrus3', 100).length).toBeGreaterThan(0)
    expect(after.get(pub)!.encrypted).toBe(false)
    const row = rawRow(t.path, ids[5]!)
    expect(row.encrypted).toBe(1)
    expect(row.content.startsWith(VAULT_PREFIX)).toBe(true)
    // Peers that had them get one tombstone each, and nothing else about them.
    const page = after.changesSince(served.cursor, ['*'], 1000)
    expect(page.memories).toHaveLength(301)
    expect(page.memories.every((e) => 'deleted' in e)).toBe(true)
    expect(page.memories).toContainEqual(gone(ids[0]!))
    expect(lines.some((l) => l.includes('op=reconcile') && l.includes('count=301'))).toBe(true)

    // While the pod runs (store open), and after it stops: the marker is nowhere in the raw bytes.
    expect(rawHits(t.path, marker)).toEqual([])
    after.close()
    expect(rawHits(t.path, marker)).toEqual([])
    // Later private edits send peers nothing more.
    const again = t.open({ publicPrefixes: WITHOUT_AUTO })
    again.update(ids[1]!, { content: 'edited privately' })
    expect(again.changesSince(page.cursor, ['*'], 1000).memories).toEqual([])
  })

  test('a public memory re-labelled private by update leaves no plaintext once the store reopens', () => {
    const marker = 'zqxrelabel' + crypto.randomUUID().replaceAll('-', '')
    const store = t.open()
    const ids = Array.from({ length: 50 }, (_, i) => store.remember({ label: `public:${i}`, content: `${marker} number ${i}` }).id)
    for (const id of ids) store.update(id, { label: 'note:hidden' })
    store.close()
    t.open().close()
    expect(rawHits(t.path, marker)).toEqual([])
  })
})

describe('crash safety and progress', () => {
  test('stopped half-way (as a crash would), the store is consistent and the next open finishes: one tombstone each', () => {
    const store = t.open({ publicPrefixes: WITH_AUTO })
    const ids = Array.from({ length: 50 }, (_, i) => store.remember({ label: `auto:${i}`, content: `plain ${i}` }).id)
    const served = store.changesSince(null, ['*'], 100).cursor
    store.close()

    const db = openDatabase(t.path)
    const ctx = createContext({
      db,
      vault: createVault(t.vaultKey),
      blind: createBlindIndex(t.vaultKey),
      clock: t.clock,
      publicPrefixes: WITHOUT_AUTO,
      maxContentBytes: 4096,
    })
    const lines: string[] = []
    const crash = () => {
      throw new Error('killed')
    }
    expect(() =>
      reconcilePrefixes(ctx, {
        batchRows: 5,
        progressRows: 10,
        log: createLogger({ sink: (l) => lines.push(l) }),
        afterBatch: (done) => done >= 20 && crash(),
      }),
    ).toThrow('killed')
    db.close()
    expect(lines.filter((l) => l.includes('op=reconcile')).map((l) => /count=(\d+)/.exec(l)?.[1])).toEqual(['10', '20'])
    const raw = new Database(t.path, { readonly: true })
    expect(raw.query('SELECT encrypted, count(*) AS n FROM memories GROUP BY encrypted').all()).toEqual([
      { encrypted: 0, n: 30 },
      { encrypted: 1, n: 20 },
    ])
    raw.close()

    const after = t.open({ publicPrefixes: WITHOUT_AUTO })
    expect(ids.every((id) => after.get(id)!.encrypted)).toBe(true)
    const page = after.changesSince(served, ['*'], 100)
    expect(page.memories.map((e) => e.id).sort()).toEqual([...ids].sort())
    expect(page.memories.every((e) => 'deleted' in e)).toBe(true)
    after.close()
    // Nothing left to do: a third open changes nothing.
    expect(t.open({ publicPrefixes: WITHOUT_AUTO }).changesSince(page.cursor, ['*'], 100).memories).toEqual([])
  })

  test('plaintext left in free pages by an older pod (before secure_delete) is gone after the scrub', () => {
    const marker = 'zqxlegacy' + crypto.randomUUID().replaceAll('-', '')
    const store = t.open({ publicPrefixes: WITH_AUTO })
    store.remember({ label: 'auto:x', content: `${marker} once public` })
    store.close()
    // An older pod freed pages holding the text without zeroing them.
    const legacy = new Database(t.path)
    legacy.run('PRAGMA secure_delete = OFF')
    legacy.run(`CREATE TABLE old_pages AS SELECT content || randomblob(3000) AS c FROM memories`)
    legacy.run('DROP TABLE old_pages')
    legacy.run('PRAGMA wal_checkpoint(TRUNCATE)')
    legacy.close()
    expect(rawHits(t.path, marker)).toEqual(['pod.db'])

    t.open({ publicPrefixes: WITHOUT_AUTO }).close()
    expect(rawHits(t.path, marker)).toEqual([])
  })
})

describe('a prefix added', () => {
  test('memories whose label became public are decrypted, plainly indexed, and served once the credential scan cleared them', async () => {
    const store = t.open({ publicPrefixes: WITHOUT_AUTO })
    const id = store.remember({ label: 'auto:x', content: 'was private' }).id
    const other = store.remember({ label: 'note:y', content: 'stays private' }).id
    const before = store.changesSince(null, ['*'], 100)
    expect(before.memories).toEqual([])
    store.close()

    const after = t.open({ publicPrefixes: WITH_AUTO })
    expect(rawRow(t.path, id)).toEqual({ content: 'was private', encrypted: 0 })
    expect(rawRow(t.path, other).encrypted).toBe(1)
    expect(after.get(id)).toMatchObject({ content: 'was private', encrypted: false })
    expect(after.recall('private', 10).map((h) => [h.id, h.encrypted])).toEqual(
      expect.arrayContaining([
        [id, false],
        [other, true],
      ]),
    )
    // Not scanned for credentials yet: held from peers until the (async) scan settles it.
    expect(after.changesSince(before.cursor, ['*'], 100).memories).toEqual([])
    expect(after.get(id)!.held).toBe(true)
    expect(await after.settleUnscanned()).toEqual({ scanned: 1, held: 0 })
    expect(after.get(id)!.held).toBe(false)
    const page = after.changesSince(before.cursor, ['*'], 100)
    expect(page.memories).toEqual([{ id, label: 'auto:x', content: 'was private', created_at: expect.any(String), updated_at: expect.any(String) }])
  })

  test('removed, then added back: private in between, served again after (once scanned)', async () => {
    let store: Store = t.open({ publicPrefixes: WITH_AUTO })
    const id = store.remember({ label: 'auto:x', content: 'round trip' }).id
    const c0 = store.changesSince(null, ['*'], 100).cursor
    store.close()
    store = t.open({ publicPrefixes: WITHOUT_AUTO })
    const c1 = store.changesSince(c0, ['*'], 100)
    expect(c1.memories).toEqual([gone(id)])
    store.close()
    store = t.open({ publicPrefixes: WITH_AUTO })
    await store.settleUnscanned()
    expect(store.changesSince(c1.cursor, ['*'], 100).memories).toMatchObject([{ id, content: 'round trip' }])
  })

  test('a memory made public whose content looks like a credential stays held after the scan', async () => {
    let store: Store = t.open({ publicPrefixes: WITHOUT_AUTO })
    const id = store.remember({ label: 'auto:deploy', content: 'deploy with 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' }).id
    const c0 = store.changesSince(null, ['*'], 100).cursor
    store.close()
    store = t.open({ publicPrefixes: WITH_AUTO })
    expect(await store.settleUnscanned()).toEqual({ scanned: 1, held: 1 })
    expect(store.changesSince(c0, ['*'], 100).memories).toEqual([])
    expect(store.listHeld().map((m) => m.id)).toEqual([id])
    store.release(id)
    expect(store.changesSince(c0, ['*'], 100).memories).toMatchObject([{ id, label: 'auto:deploy' }])
  })
})
