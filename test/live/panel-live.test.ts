/**
 * The panel is live (headless Chromium on a real pod process): once it has the event stream, a
 * memory pulled live from a peer shows up in B's list and the peer's card moves, with no reload
 * and no poll (while the stream is up the full re-read runs once a minute). The token travels in
 * a header: no request URL carries it.
 *
 * Needs /usr/bin/chromium: run scripts/ensure-chromium.sh once.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { chromium, type Browser, type Page } from 'playwright-core'
import { addPeer, identityOf } from '../helpers/federation'
import { cleanup, spawnPod, type PodProcess } from '../helpers/pod-process'

const CHROMIUM = '/usr/bin/chromium'
const LIVE = { MAZEMAKER_LIVE_WAIT: '50' }

let a: PodProcess
let b: PodProcess
let browser: Browser
let page: Page
const requests: string[] = []

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/ensure-chromium.sh`)
  ;[a, b] = await Promise.all([spawnPod({ env: LIVE }), spawnPod({ env: LIVE })])
  await addPeer(a, b, { sync: false })
  await addPeer(b, a)
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] })
  page = await browser.newPage()
  page.setDefaultTimeout(15_000)
  page.on('request', (r) => requests.push(r.url()))
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await cleanup([a, b])
}, 60_000)

test('a memory pulled live appears in the open panel without a reload; the token never sits in a URL', async () => {
  const aId = (await identityOf(a)).pod_id
  await page.goto(`${b.url}/#token=${b.token()}`)
  await page.waitForFunction(() => document.body.dataset.live === 'on')
  // The card exists (first render) before the write; the list does not show the memory yet.
  await page.locator(`li.peer[data-peer-id="${aId}"]`).waitFor()
  expect(await page.locator('li.memory', { hasText: 'public:arrives-live' }).count()).toBe(0)
  const loads = await page.evaluate(() => performance.getEntriesByType('navigation').length)

  const res = await a.api('POST', '/memories', { label: 'public:arrives-live', content: 'pushed to the panel' })
  expect(res.status).toBe(201)
  // Well inside the 60 s safety-net refresh: the event stream brought it.
  await page.locator('li.memory', { hasText: 'public:arrives-live' }).waitFor({ timeout: 10_000 })
  expect(await page.locator('li.memory', { hasText: 'pushed to the panel' }).count()).toBe(1)
  expect(await page.evaluate(() => performance.getEntriesByType('navigation').length)).toBe(loads)
  // The peer card was re-rendered from a `peers` event: A shows as ready with a recent sync.
  await page.locator(`li.peer[data-peer-id="${aId}"]`, { hasText: 'ready' }).waitFor()

  expect(requests.some((u) => u.endsWith('/events'))).toBe(true)
  // The link's fragment never reaches the network either; no request URL holds the token.
  expect(requests.filter((u) => u.includes(b.token()))).toEqual([])
}, 60_000)
