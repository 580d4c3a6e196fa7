import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { createSecretScanner } from '../../src/store/secret-scan'
import { scanMemories } from '../../src/store/secret-scan-batch'
import type { Store } from '../../src/store'
import { FAKE_SECRETS, LOOKALIKES } from './_fake-secrets'
import { segmentsWritten } from './_fts-segments'
import { tempStores, type TempStores } from './_temp-store'

const j = (...parts: string[]) => parts.join('')
const scanner = createSecretScanner()

const PEM = FAKE_SECRETS['PEM private key block']!
const [PEM_HEAD, PEM_TAIL] = [PEM.slice(0, PEM.indexOf('\n') + 1), PEM.slice(PEM.indexOf('\n') + 1)]

/** Memories whose verdicts the joined scan could get wrong if it were trusted blindly. */
const TRICKY: { label: string; content: string }[] = [
  { label: 'public:a', content: 'plain words before a switch' },
  // A disable comment would switch the scan off for every memory after it in the joined text.
  { label: 'public:off', content: '<!-- secretlint-disable -->' },
  { label: 'public:after-off', content: FAKE_SECRETS['GitHub token']! },
  // Half a key block here, the other half in the next memory: neither holds a key alone.
  { label: 'public:pem-head', content: PEM_HEAD },
  { label: 'public:pem-tail', content: PEM_TAIL },
  // The whole text of this one is a GCP service-account key as JSON (label and content together).
  { label: '{"private_key_id": "a1b2", "type": "service_account",', content: j('"private_key": "-----BEGIN ', 'PRIVATE KEY-----\\nMIIE"}') },
  { label: 'public:db', content: j('postgres://admin:', 'Sup3rS3cretPw', '@db.internal:5432/ledger') },
  { label: 'public:npm', content: j('token ', 'npm_', 'a'.repeat(18), 'B'.repeat(18)) },
  { label: 'public:tail', content: 'ghp_ at the end with nothing after' },
]

describe('scanMemories (many memories, one secretlint pass)', () => {
  test('each verdict is exactly what scanning the memory alone gives', async () => {
    const memories = [
      ...Object.values(FAKE_SECRETS).map((content, i) => ({ label: `public:s${i}`, content })),
      ...Object.values(LOOKALIKES).map((content, i) => ({ label: `public:l${i}`, content })),
      ...TRICKY,
    ]
    // Every order of neighbours matters: also reversed and interleaved with clean memories.
    for (const list of [memories, [...memories].reverse(), memories.flatMap((m, i) => [m, { label: `public:gap${i}`, content: 'nothing here' }])]) {
      const alone = await Promise.all(list.map((m) => scanner.scanMemory(m.label, m.content)))
      expect(await scanMemories(scanner, list)).toEqual(alone)
    }
  })

  test('a credential among thousands of clean memories is found, and only it', async () => {
    const list = Array.from({ length: 3000 }, (_, i) => ({ label: `public:n${i}`, content: `note ${i} about the ledger` }))
    list[2042] = { label: 'public:ci', content: FAKE_SECRETS['AWS access key id']! }
    const verdicts = await scanMemories(scanner, list)
    expect(verdicts.flatMap((v, i) => (v.length > 0 ? [i] : []))).toEqual([2042])
  })
})

describe('importMemories', () => {
  let t: TempStores
  let store: Store
  beforeEach(() => {
    t = tempStores()
    store = t.open()
  })
  afterEach(() => t.cleanup())

  test('imports in order through the vault, the blind index and the full-text index; private content is encrypted', async () => {
    const out = await store.importMemories([
      { label: 'public:first', content: 'the ledger moves to postgres', created_at: '2021-01-02T03:04:05.000Z' },
      { label: 'note:second', content: 'salary bands are private' },
    ])
    expect(out.map((o) => o.status)).toEqual(['imported', 'imported'])
    const listed = store.list({ origin: 'local' }).memories
    expect(listed.map((m) => [m.label, m.encrypted])).toEqual([
      ['note:second', true],
      ['public:first', false],
    ])
    expect(listed[1]!.created_at).toBe('2021-01-02T03:04:05.000Z')
    expect(store.recall('salary', 5).map((h) => h.label)).toEqual(['note:second'])
    expect(store.recall('postgres', 5).map((h) => h.label)).toEqual(['public:first'])
    expect(store.changesSince(null, ['*'], 100).memories.map((m) => ('label' in m ? m.label : null))).toEqual(['public:first'])
  })

  test('a memory already here, or earlier in the batch, is skipped; a second import adds nothing', async () => {
    await store.rememberGrouped({ label: 'note:here', content: 'already stored, encrypted' })
    const batch = [
      { label: 'note:here', content: 'already stored, encrypted' },
      { label: 'public:twice', content: 'same line twice' },
      { label: 'public:twice', content: 'same line twice' },
      { label: 'public:twice', content: 'same label, other content' },
    ]
    expect((await store.importMemories(batch)).map((o) => o.status)).toEqual(['present', 'imported', 'present', 'imported'])
    expect((await store.importMemories(batch)).map((o) => o.status)).toEqual(['present', 'present', 'present', 'present'])
    expect(store.stats().memories).toBe(3)
  })

  test('two imports of the same lines at once store each line once', async () => {
    // Public lines: each import awaits its credential scan, so both check before either writes.
    const batch = Array.from({ length: 50 }, (_, i) => ({ label: `public:c${i % 10}`, content: `line ${i}` }))
    const [a, b] = await Promise.all([store.importMemories(batch), store.importMemories(batch)])
    expect(a.filter((o) => o.status === 'imported').length + b.filter((o) => o.status === 'imported').length).toBe(50)
    expect(store.stats().memories).toBe(50)
  })

  test('a line another connection stored meanwhile (or an edit made it equal) counts as present', async () => {
    const other = t.open()
    const batch = [
      { label: 'note:a', content: 'written meanwhile' },
      { label: 'public:b', content: 'edited into this' },
      { label: 'public:c', content: 'new' },
    ]
    const { id } = other.remember({ label: 'public:b', content: 'before the edit' })
    const pending = store.importMemories(batch) // checks now; writes after its scan
    other.remember({ label: 'note:a', content: 'written meanwhile' })
    other.update(id, { content: 'edited into this' })
    expect((await pending).map((o) => o.status)).toEqual(['present', 'present', 'imported'])
    expect(store.stats().memories).toBe(3)
  })

  test('many memories under one label: only the same content is present', async () => {
    const batch = Array.from({ length: 400 }, (_, i) => ({ label: 'note:daily', content: `day ${i}` }))
    expect((await store.importMemories(batch.slice(0, 300))).every((o) => o.status === 'imported')).toBe(true)
    const out = await store.importMemories(batch)
    expect(out.filter((o) => o.status === 'present')).toHaveLength(300)
    expect(out.slice(300).every((o) => o.status === 'imported')).toBe(true)
  })

  test('a line holding a lone surrogate is present on the second import (stored as U+FFFD)', async () => {
    const batch = [{ label: 'public:odd\ud800', content: 'half a pair: \udc00' }]
    expect((await store.importMemories(batch))[0]!.status).toBe('imported')
    expect((await store.importMemories(batch))[0]!.status).toBe('present')
    expect(store.stats().memories).toBe(1)
  })

  test('a credential is held with its warning and never served; a bad memory fails alone with the message remember gives', async () => {
    const out = await store.importMemories([
      { label: 'public:ci', content: FAKE_SECRETS['GitHub token']! },
      { label: 'peer:x:y', content: 'reserved' },
      { label: 'public:future', content: 'x', created_at: '2999-01-01T00:00:00Z' },
      { label: 'public:ok', content: 'fine' },
    ])
    expect(out[0]).toMatchObject({ status: 'imported', held: true })
    expect(out[1]).toMatchObject({ status: 'failed' })
    expect((out[1] as { message: string }).message).toContain('reserved for copies')
    expect((out[2] as { message: string }).message).toContain('created_at is in the future')
    expect(out[3]).toMatchObject({ status: 'imported', held: false })
    expect(store.listHeld(10).map((m) => m.label)).toEqual(['public:ci'])
    expect(store.changesSince(null, ['*'], 100).memories.map((m) => ('label' in m ? m.label : null))).toEqual(['public:ok'])
  })

  test("a batch's full-text rows are written together, not a segment per memory", async () => {
    const before = segmentsWritten(t.path)
    const batch = Array.from({ length: 300 }, (_, i) => ({ label: i % 2 ? `public:s${i}` : `note:s${i}`, content: `narwhal number ${i}` }))
    expect((await store.importMemories(batch)).every((o) => o.status === 'imported')).toBe(true)
    // Written between the inserts, 300 rows made about 300 segments.
    expect(segmentsWritten(t.path) - before).toBeLessThan(10)
    expect(store.recall('narwhal', 100)).toHaveLength(100)
  })

  test('a full batch with some already present: each new memory stored whole, in order, and found by its own word', async () => {
    const at = (i: number) => ({ label: i % 3 ? `public:w${i}` : `note:w${i}`, content: `word${i}x and a shared tail` })
    // Every 27th is here already: 962 new ones, written in runs of 64, 16, 4 and 1 rows.
    for (let i = 0; i < 1000; i += 27) await store.rememberGrouped(at(i))
    const out = await store.importMemories(Array.from({ length: 1000 }, (_, i) => at(i)))
    expect(out.filter((o) => o.status === 'present')).toHaveLength(38)
    const imported = out.flatMap((o, i) => (o.status === 'imported' ? [{ i, id: o.id }] : []))
    expect(imported).toHaveLength(962)
    for (const { i, id } of imported) {
      const m = store.get(id)!
      expect({ label: m.label, content: m.content }).toEqual(at(i))
      expect(store.recall(`word${i}x`, 5).map((h) => h.id)).toEqual([id])
    }
    // Stored in the order given: the feed (public ones, in change order) lists them so.
    const feed = store.changesSince(null, ['public:*'], 1000).memories.map((m) => m.id)
    expect(feed.filter((id) => imported.some((x) => x.id === id))).toEqual(imported.filter(({ i }) => i % 3 !== 0).map(({ id }) => id))
  })

  test('a dry run says what is present and writes nothing', async () => {
    await store.rememberGrouped({ label: 'public:a', content: 'one' })
    const out = await store.importMemories(
      [
        { label: 'public:a', content: 'one' },
        { label: 'public:b', content: 'two' },
      ],
      { dryRun: true },
    )
    expect(out.map((o) => o.status)).toEqual(['present', 'imported'])
    expect(store.stats().memories).toBe(1)
  })
})
