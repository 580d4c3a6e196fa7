/**
 * The sync loop's log at work, on an injected clock: pulls that bring memories are debug lines;
 * each peer gets one info summary of what arrived, at once for the first and then at most every
 * PULL_SUMMARY_MS. Real pods in process (store, keys, HTTP), pulled with sync-now.
 */
import { expect, test } from 'bun:test'
import { FakeClock, MINUTE_MS } from '../../src/lib/clock'
import { memoryLogger } from '../../src/lib/log'
import { disposablePod } from '../helpers/in-process-pod'
import { PULL_SUMMARY_MS } from '../../src/sync/constants'
import { syncLoopInto } from '../helpers/sync-loop'

const pod = (clock: FakeClock) => disposablePod({ clock, autoSync: false })

test('twenty pulls that each bring a memory write one info line, and the next comes once five minutes have passed', async () => {
  expect(PULL_SUMMARY_MS).toBe(5 * MINUTE_MS)
  const clock = new FakeClock()
  await using a = await pod(clock)
  await using b = await pod(clock)
  a.home.peers.add({ id: b.home.identity.podId, key: b.home.identity.publicKey, url: b.url, sync: false })
  b.home.peers.add({ id: a.home.identity.podId, key: a.home.identity.publicKey, url: a.url })
  const info = memoryLogger('info')
  await using wired = syncLoopInto(b, clock, { log: info, liveWaitSeconds: 0 })
  const { loop } = wired
  for (let i = 0; i < 20; i++) {
    a.store.remember({ label: `public:w${i}`, content: `write ${i}` })
    expect(await loop.syncNow()).toEqual([expect.objectContaining({ ok: true, fetched: 1, stored: 1 })])
    clock.advance(10_000) // 20 pulls over 200 s: all within one summary window
  }
  expect(info.lines).toHaveLength(1)
  expect(info.lines[0]).toContain('level=info')
  expect(info.lines[0]).toContain('op=sync_summary pulls=1 fetched=1 stored=1 deleted=0 dropped=0')

  // Past the window, the next pull writes what arrived since the first summary (19 pulls, and this one).
  clock.advance(PULL_SUMMARY_MS)
  a.store.remember({ label: 'public:late', content: 'one more' })
  await loop.syncNow()
  expect(info.lines).toHaveLength(2)
  expect(info.lines[1]).toContain('op=sync_summary pulls=20 fetched=20 stored=20 deleted=0 dropped=0 window_s=500')
  clock.advance(PULL_SUMMARY_MS)
  await loop.syncNow()
  expect(info.lines).toHaveLength(2) // nothing arrived: a quiet peer says nothing
})

test('a pull of many pages (a big first pull) logs its progress every 10 s; a one-page pull does not', async () => {
  const clock = new FakeClock()
  await using a = await pod(clock)
  await using b = await pod(clock)
  a.home.peers.add({ id: b.home.identity.podId, key: b.home.identity.publicKey, url: b.url, sync: false })
  b.home.peers.add({ id: a.home.identity.podId, key: a.home.identity.publicKey, url: a.url })
  for (let i = 0; i < 2000; i++) a.store.remember({ label: `public:m${i}`, content: `memory ${i}` })
  const info = memoryLogger('info')
  // Each page (1,000 entries) takes 11 s on the injected clock (a slow link).
  const slow = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const res = await fetch(input, init)
    clock.advance(11_000)
    return res
  }) as typeof fetch
  await using wired = syncLoopInto(b, clock, { log: info, liveWaitSeconds: 0, fetch: slow })
  const { loop } = wired
  expect(await loop.syncNow()).toEqual([expect.objectContaining({ ok: true, fetched: 2000 })])
  const progress = info.lines.filter((l) => l.includes('op=pull '))
  expect(progress.length).toBeGreaterThan(0)
  expect(progress[0]).toContain(`peer=${a.id.slice(0, 8)}`)
  expect(progress[0]).toMatch(/count=\d+ rate=\d+ msg="in progress"/)

  a.store.remember({ label: 'public:one-more', content: 'one page' })
  const before = info.lines.length
  expect(await loop.syncNow()).toEqual([expect.objectContaining({ ok: true, fetched: 1 })])
  expect(info.lines.slice(before).filter((l) => l.includes('op=pull '))).toEqual([])
})
