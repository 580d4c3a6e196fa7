import { describe, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { secretLintProfiler } from '@secretlint/profiler'
import { createSecretScanner } from '../../src/store/secret-scan'
import { HELD_COUNT, HELD_PAGE, UNSETTLED_BATCH } from '../../src/store/secret-holds'
import type { Store } from '../../src/store'
import { FAKE_SECRETS, LOOKALIKES } from './_fake-secrets'
import { PEER_A, storeEachTest, type TempStores } from './_temp-store'

let t: TempStores
let store: Store
storeEachTest((fresh) => ({ t, store } = fresh))

const scanForSecrets = (text: string) => createSecretScanner().scanText(text)
const served = (since: string | null = null) => store.changesSince(since, ['*'], 1000)

describe('scanForSecrets (secretlint recommended preset)', () => {
  test.each(Object.entries(FAKE_SECRETS))('finds a %s', async (_, text) => {
    expect((await scanForSecrets(text)).length).toBeGreaterThan(0)
  })
  test.each(Object.entries(LOOKALIKES))('leaves %s alone', async (_, text) => {
    expect(await scanForSecrets(text)).toEqual([])
  })
  test("scans leave nothing behind in secretlint's process-wide profiler (it kept every mark forever)", async () => {
    for (let i = 0; i < 50; i++) await scanForSecrets(`plain memory ${i}`)
    expect(await secretLintProfiler.getEntries()).toEqual([])
    expect(performance.getEntriesByType('mark').filter((m) => m.name.includes('secretlint'))).toEqual([])
  })

  test('findings name the kind, never the matched text', async () => {
    const findings = await scanForSecrets(FAKE_SECRETS['GitHub token']!)
    expect(findings).toEqual([{ rule: 'github', kind: 'GITHUB_TOKEN' }])
  })
})

describe('remember with a credential under a public prefix', () => {
  test.each(Object.entries(FAKE_SECRETS))('a %s is held, with a warning, and never served', async (_, content) => {
    const saved = await store.rememberGrouped({ label: 'public:ops', content })
    expect(saved.held).toBe(true)
    expect(saved.warning).toContain('held back from every peer')
    expect(saved.warning).not.toContain(content.slice(-12))
    expect(served().memories).toEqual([])
    expect(store.listHeld().map((m) => m.id)).toEqual([saved.id])
    expect(store.get(saved.id)!.held).toBe(true)
  })

  test.each(Object.entries(LOOKALIKES))('%s is not held and is served', async (_, content) => {
    const saved = await store.rememberGrouped({ label: 'public:notes', content })
    expect(saved.held).toBe(false)
    expect(saved.warning).toBeUndefined()
    expect(served().memories).toMatchObject([{ id: saved.id, content }])
  })

  test('private labels are not scanned (their content never leaves the pod)', async () => {
    const saved = await store.rememberGrouped({ label: 'note:aws', content: FAKE_SECRETS['AWS secret access key']! })
    expect(saved).toMatchObject({ encrypted: true, held: false })
    expect(store.heldCount()).toBe(0)
  })
})

describe('release', () => {
  test('a released memory is served from the next pull, at a new feed position', async () => {
    const before = served().cursor
    const { id } = await store.rememberGrouped({ label: 'public:ci', content: FAKE_SECRETS['GitHub token']! })
    expect(served(before).memories).toEqual([])
    expect(store.release(id)!.held).toBe(false)
    expect(served(before).memories).toMatchObject([{ id, label: 'public:ci' }])
    expect(store.heldCount()).toBe(0)
    // A label-only edit keeps the operator's release; a content edit is scanned again.
    expect((await store.updateScanned(id, { label: 'public:ci2' }))!.held).toBe(false)
    const again = await store.updateScanned(id, { content: FAKE_SECRETS['Slack bot token']! })
    expect(again!.held).toBe(true)
    expect(again!.warning).toContain('SLACK_TOKEN')
  })

  test('unknown ids: null; a memory that is not held: unchanged', async () => {
    expect(store.release('0192f3a4-5b6c-7d8e-9f01-23456789abcd')).toBeNull()
    const { id } = await store.rememberGrouped({ label: 'public:x', content: 'plain' })
    expect(store.release(id)).toMatchObject({ id, held: false, content: 'plain' })
  })
})

describe('a memory that becomes held after it was served', () => {
  test('is sent to peers as a tombstone, and served again once released', async () => {
    const { id } = await store.rememberGrouped({ label: 'public:runbook', content: 'restart the worker' })
    const first = served()
    expect(first.memories).toMatchObject([{ id, content: 'restart the worker' }])
    const edited = await store.updateScanned(id, { content: `restart the worker; ${FAKE_SECRETS['AWS secret access key']}` })
    expect(edited!.held).toBe(true)
    const second = served(first.cursor)
    expect(second.memories).toEqual([{ id, deleted: true }])
    store.release(id)
    expect(served(second.cursor).memories).toMatchObject([{ id, label: 'public:runbook' }])
  })

  test('a private memory re-labelled public with a credential is held, never served', async () => {
    const { id } = await store.rememberGrouped({ label: 'note:keys', content: FAKE_SECRETS['PEM private key block']! })
    const updated = await store.updateScanned(id, { label: 'public:keys' })
    expect(updated).toMatchObject({ held: true, encrypted: false })
    expect(served().memories).toEqual([])
  })
})

describe('audience: which peers receive a memory, as the feed decides', () => {
  test('gate, held flag and each peer scope', async () => {
    const pub = (await store.rememberGrouped({ label: 'public:a', content: 'one' })).id
    const dec = (await store.rememberGrouped({ label: 'decision:b', content: 'two' })).id
    const priv = (await store.rememberGrouped({ label: 'note:c', content: 'three' })).id
    const held = (await store.rememberGrouped({ label: 'public:d', content: FAKE_SECRETS['GitHub token']! })).id
    const other = '0a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3'
    const out = store.audience([pub, dec, priv, held, 'nope'], { [PEER_A]: ['public:*'], [other]: ['*'] })
    expect(out).toEqual({ [pub]: [PEER_A, other], [dec]: [other], [priv]: [], [held]: [], nope: [] })
  })
})

describe('an edit that lands while another edit is being scanned', () => {
  test('a relabel to public does not publish content written while its scan ran: it is scanned again', async () => {
    const { id } = await store.rememberGrouped({ label: 'note:deploy', content: 'deploy notes, nothing secret' })
    // The relabel reads the row and starts its (async) scan of the harmless content …
    const relabel = store.updateScanned(id, { label: 'public:deploy' })
    // … and the content becomes a credential before the scan's verdict is written.
    store.update(id, { content: FAKE_SECRETS['GitHub token']! })
    const out = await relabel
    expect(out).toMatchObject({ label: 'public:deploy', held: true, content: FAKE_SECRETS['GitHub token']! })
    expect(served().memories).toEqual([])
  })

  test('a label-only edit of a public memory scans the new label', async () => {
    const { id } = await store.rememberGrouped({ label: 'public:ci', content: 'the CI job' })
    const out = await store.updateScanned(id, { label: `public:ci ${FAKE_SECRETS['GitHub token']}` })
    expect(out!.held).toBe(true)
    expect(out!.warning).toContain('GITHUB_TOKEN')
    expect(served().memories).toEqual([{ id, deleted: true }])
  })
})

test('held memories are read through memories_held, not by walking every own memory (60-100 ms a read on 200k)', async () => {
  for (let i = 0; i < 20; i++) store.remember({ label: `public:n${i}`, content: `note ${i}` })
  await store.rememberGrouped({ label: 'public:ci', content: FAKE_SECRETS['GitHub token']! })
  const db = new Database(t.path, { readonly: true })
  const plan = (sql: string, ...params: number[]) => (db.query(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail)
  try {
    expect(plan(HELD_PAGE, 100)).toEqual([
      'SEARCH memories USING INTEGER PRIMARY KEY (rowid=?)',
      'LIST SUBQUERY 1',
      'SCAN memories USING INDEX memories_held',
      'USE TEMP B-TREE FOR ORDER BY',
      'USE TEMP B-TREE FOR ORDER BY',
    ])
    expect(plan(HELD_COUNT)).toEqual(['SCAN memories USING INDEX memories_held'])
    // A batch of the settling after a prefix was added: the held = 2 range of the index, in pk order (no sort).
    expect(plan(UNSETTLED_BATCH)).toEqual(['SEARCH memories USING INDEX memories_held (held=?)'])
  } finally {
    db.close()
  }
})

test('settling memories a new prefix made public lets the event loop turn between batches', async () => {
  for (let i = 0; i < 250; i++) store.remember({ label: `note:n${i}`, content: `note ${i}` })
  store.close()
  // A clock that moves 3 s per read: every batch is past the 20 ms after which the job lets requests in.
  let ms = t.clock.now()
  store = t.open({ publicPrefixes: ['public:', 'note:'], clock: { now: () => (ms += 3000) } as unknown as typeof t.clock })
  expect(store.heldCount()).toBe(250)
  let finished = false
  const settling = store.settleUnscanned().then((r) => ((finished = true), r))
  const finishedAtTimer = await new Promise<boolean>((resolve) => setTimeout(() => resolve(finished), 0))
  expect(finishedAtTimer).toBe(false)
  expect(await settling).toMatchObject({ held: 0 })
  expect(store.heldCount()).toBe(0)
})
