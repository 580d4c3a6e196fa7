import { expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { memoryLogger } from '../../src/lib/log'
import type { Store } from '../../src/store'
import { FAKE_SECRETS } from './_fake-secrets'
import { UNSCANNED_PAGE } from '../../src/store/scan-backfill'
import { storeEachTest, type TempStores } from './_temp-store'

let t: TempStores
let store: Store
storeEachTest((fresh) => ({ t, store } = fresh))

const served = (since: string | null = null) => store.changesSince(since, ['*'], 1000)

test('memories no scan has read are scanned once: credentials held (peers get tombstones), the rest marked scanned', async () => {
  // The sync remember does not scan: these rows are as a pod before the scanner left them.
  const clean = Array.from({ length: 250 }, (_, i) => store.remember({ label: `public:note-${i}`, content: `note ${i}` }).id)
  const secret = store.remember({ label: 'public:ci', content: FAKE_SECRETS['GitHub token']! }).id
  const inLabel = store.remember({ label: `public:token ${FAKE_SECRETS['GitHub token']}`, content: 'harmless' }).id
  const priv = store.remember({ label: 'note:keys', content: FAKE_SECRETS['AWS secret access key']! }).id
  const before = served()
  expect(before.memories.map((m) => m.id)).toContain(secret)

  // A clock that moves 3 s per read, so the 10 s progress lines show up within one scan.
  let ms = t.clock.now()
  const log = memoryLogger('info')
  store.close()
  store = t.open({ log, clock: { now: () => (ms += 3000) } as unknown as typeof t.clock })
  expect(await store.scanBackfill()).toEqual({ scanned: 252, held: 2 })
  expect(store.get(secret)!.held).toBe(true)
  expect(store.get(inLabel)!.held).toBe(true)
  expect(store.get(priv)!.held).toBe(false) // private: never leaves the pod, never scanned
  expect(clean.every((id) => !store.get(id)!.held)).toBe(true)
  expect(served(before.cursor).memories).toEqual([
    { id: secret, deleted: true },
    { id: inLabel, deleted: true },
  ])
  expect(log.lines.some((l) => /op=secret_scan count=252 .*scanning memories that no credential scan has read/.test(l))).toBe(true)
  expect(log.lines.some((l) => /op=secret_scan count=\d+ total=252 rate=\d+ left_s=\d+ msg="in progress"/.test(l))).toBe(true)
  expect(log.lines.some((l) => /op=secret_scan count=252 held=2 msg="every memory has been scanned for credentials"/.test(l))).toBe(true)

  // Once: a second run finds nothing to do.
  expect(await store.scanBackfill()).toEqual({ scanned: 0, held: 0 })
})

test('scanning writes count as scanned; an unscanned row edited while the backfill waits is left to the edit', async () => {
  const scannedOnWrite = (await store.rememberGrouped({ label: 'public:a', content: 'one' })).id
  const unscanned = store.remember({ label: 'public:b', content: 'two' }).id
  const flags = () => {
    const db = new Database(t.path, { readonly: true })
    try {
      return Object.fromEntries((db.query('SELECT id, scanned FROM memories').all() as { id: string; scanned: number }[]).map((r) => [r.id, r.scanned]))
    } finally {
      db.close()
    }
  }
  expect(flags()).toEqual({ [scannedOnWrite]: 1, [unscanned]: 0 })
  // The edit scans what it writes.
  await store.updateScanned(unscanned, { label: 'public:b2' })
  expect(flags()[unscanned]).toBe(1)
  // A sync edit of content writes text no scan has read.
  store.update(scannedOnWrite, { content: FAKE_SECRETS['Slack bot token']! })
  expect(flags()[scannedOnWrite]).toBe(0)
  const scan = store.scanBackfill()
  store.update(scannedOnWrite, { content: 'harmless again' })
  expect(await scan).toEqual({ scanned: 1, held: 0 })
  expect(flags()[scannedOnWrite]).toBe(0) // the edit's own text waits for the next run
})

test('each batch is read through the unscanned index, not by sorting every own memory (a 100k backfill took 50 s that way)', () => {
  for (let i = 0; i < 20; i++) store.remember({ label: `public:n${i}`, content: `note ${i}` })
  const db = new Database(t.path, { readonly: true })
  try {
    const plan = (db.query(`EXPLAIN QUERY PLAN ${UNSCANNED_PAGE}`).all(0) as { detail: string }[]).map((r) => r.detail)
    expect(plan).toEqual(['SEARCH memories USING INDEX memories_unscanned (pk>?)'])
  } finally {
    db.close()
  }
})

test('the backfill lets the event loop turn between batches: requests are answered while it runs', async () => {
  for (let i = 0; i < 250; i++) store.remember({ label: `public:n${i}`, content: `note ${i}` })
  // A clock that moves 3 s per read: every batch is past the 20 ms after which the job lets requests in.
  let ms = t.clock.now()
  store.close()
  store = t.open({ clock: { now: () => (ms += 3000) } as unknown as typeof t.clock })
  let finished = false
  const scan = store.scanBackfill().then((r) => ((finished = true), r))
  // A timer is what a request waits behind: it fires before the last of the 3 batches is done.
  const finishedAtTimer = await new Promise<boolean>((resolve) => setTimeout(() => resolve(finished), 0))
  expect(finishedAtTimer).toBe(false)
  expect(await scan).toEqual({ scanned: 250, held: 0 })
})
