/**
 * The panel at hub scale, in headless Chromium against a real pod process whose peers.toml holds
 * 2,000 peers: problems first, only a screenful of cards in the page, search by name or id, the
 * status counts as filters, the new peer's card in view after Add, secret headers shown and
 * set/unset from the card, and `peer list` in the same order (with --status and --json).
 *
 * Needs /usr/bin/chromium: run scripts/ensure-chromium.sh once.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { generateKeyPairSync } from 'node:crypto'
import { existsSync, statSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import type { PeersAnswer } from '../../src/http/answers'
import { homePaths } from '../../src/identity'
import { PEER_STATUSES, type PeerStatus } from '../../src/lib/codes'
import { identityOf } from '../helpers/federation'
import { type HubPeer, writeHubPeers } from '../helpers/hub-peers'
import { cleanup, type PodProcess, runCli, spawnPod } from '../helpers/pod-process'

const CHROMIUM = '/usr/bin/chromium'
const PEERS = 2000
/** Peers whose key file the test deletes: revoked, a problem the list puts first. */
const REVOKED = 3
setDefaultTimeout(60_000)

let pod: PodProcess
let peers: HubPeer[]
let browser: Browser
let page: Page
const problems: string[] = []

const rank = (s: string) => PEER_STATUSES.indexOf(s as PeerStatus)
const cards = (p: Page) => p.locator('#peer-list li.peer')
const statusesShown = (p: Page) =>
  p.evaluate(() => [...document.querySelectorAll('#peer-list li.peer .badge')].map((b) => /status-(\S+)/.exec(b.className)?.[1] ?? ''))

async function overview(): Promise<PeersAnswer> {
  return (await pod.api<PeersAnswer>('GET', '/peer/peers')).body
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/ensure-chromium.sh`)
  pod = await spawnPod({ env: { MAZEMAKER_LIVE_WAIT: '0' } })
  peers = writeHubPeers(pod.home, (await identityOf(pod)).pod_id, PEERS)
  for (const p of peers.slice(100, 100 + REVOKED)) unlinkSync(join(homePaths(pod.home).peerKeyDir, `${p.id}.key`))
  // peers.toml is read live: wait until the pod lists them all.
  while ((await overview()).peers.length !== PEERS) await Bun.sleep(100)
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] })
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage()
  page.setDefaultTimeout(15_000)
  page.on('pageerror', (e) => problems.push(e.message))
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text())
  })
  await page.goto(`${pod.url}/#token=${pod.token()}`)
  await cards(page).first().waitFor()
})

afterAll(async () => {
  await browser?.close()
  await cleanup(pod ? [pod] : [])
})

describe('M06 PEERS with 2,000 peers', () => {
  test('heading and peek badge; a screenful of cards in the page, not 2,000', async () => {
    expect(await page.locator('#peers-heading').textContent()).toStartWith('M06 PEERS')
    expect(await page.locator('#summary').textContent()).toMatch(/^\d+ ready · \d+ handshake-pending/)
    const rendered = await cards(page).count()
    expect(rendered).toBeGreaterThan(0)
    expect(rendered).toBeLessThan(40)
    // The old page held every card: ~98,000 elements for 2,000 peers.
    expect(await page.evaluate(() => document.getElementsByTagName('*').length)).toBeLessThan(2000)
  })

  test('problems first: the revoked peers lead, and the statuses shown never go back up the order', async () => {
    const shown = await statusesShown(page)
    expect(shown.slice(0, REVOKED).every((s) => rank(s) <= rank('revoked'))).toBe(true)
    for (let i = 1; i < shown.length; i++) expect(rank(shown[i]!)).toBeGreaterThanOrEqual(rank(shown[i - 1]!))
  })

  test('scrolling to the end shows the last peers, still only a screenful in the page', async () => {
    const last = (await overview()).peers.at(-1)!
    await page.locator('#peer-scroll').evaluate((el) => {
      el.scrollTop = el.scrollHeight
    })
    await page.locator(`li.peer[data-peer-id="${last.id}"]`).waitFor()
    expect(await cards(page).count()).toBeLessThan(40)
    await page.locator('#peer-scroll').evaluate((el) => {
      el.scrollTop = 0
    })
  })

  test('search by name, then by short id', async () => {
    const search = page.getByRole('searchbox', { name: 'Search peers by name or id' })
    await search.fill('spoke-1234')
    await page.locator('#peer-count', { hasText: 'Showing 1 of 2000 peers.' }).waitFor()
    expect(await cards(page).locator('.peer-name').allTextContents()).toEqual(['spoke-1234'])
    const target = peers[1233]!
    await search.fill(target.id.slice(0, 8))
    await page.locator(`li.peer[data-peer-id="${target.id}"]`).waitFor()
    expect(await cards(page).count()).toBe(1)
    await search.fill('no such peer')
    await page.locator('#peer-count', { hasText: 'none matches' }).waitFor()
    expect(await cards(page).count()).toBe(0)
    await search.fill('')
    await page.locator('#peer-count').waitFor({ state: 'hidden' })
  })

  test('the status counts are the filters: handshake-pending only, then all again', async () => {
    const pending = (await overview()).peers.filter((p) => p.status === 'handshake-pending').length
    expect(pending).toBeGreaterThan(0)
    const button = page.locator('#peer-filters button[data-status="handshake-pending"]')
    expect(await button.textContent()).toBe(`◖ handshake-pending ${pending}`)
    await button.click()
    expect(await button.getAttribute('aria-pressed')).toBe('true')
    await page.locator('#peer-count', { hasText: `Showing ${pending} of 2000 peers.` }).waitFor()
    expect(new Set(await statusesShown(page))).toEqual(new Set(['handshake-pending']))
    // Each says why and what to do next (the pod's hint, as `peer list` prints it).
    expect(await cards(page).first().locator('.peer-hint').textContent()).toStartWith('Next: no URL for it yet: set a URL with')
    await button.click()
    expect(await button.getAttribute('aria-pressed')).toBe('false')
    await page.locator('#peer-count').waitFor({ state: 'hidden' })
  })

  test('after Add, the new peer is in view, wherever the order puts it', async () => {
    const key = String(generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' }).x)
    const id = crypto.randomUUID()
    await page.getByLabel('Their handshake URL').fill(`mzm-handshake://${id}?key=${key}`)
    await page.getByLabel(/^Name/).fill('zz-newest')
    await page.getByRole('button', { name: 'Add peer' }).click()
    await page.locator('#add-status', { hasText: 'Added zz-newest' }).waitFor()
    const card = page.locator(`li.peer[data-peer-id="${id}"]`)
    await card.waitFor()
    const [box, scroller] = [await card.boundingBox(), await page.locator('#peer-scroll').boundingBox()]
    const viewport = page.viewportSize()!
    expect(box && scroller).toBeTruthy()
    expect(box!.y).toBeGreaterThanOrEqual(scroller!.y - 1)
    expect(box!.y + box!.height).toBeLessThanOrEqual(scroller!.y + scroller!.height + 1)
    expect(box!.y).toBeGreaterThanOrEqual(-1)
    expect(box!.y + box!.height).toBeLessThanOrEqual(viewport.height + 1)
    // The list is in the pod's order: it is not simply the first card.
    expect(await cards(page).first().getAttribute('data-peer-id')).not.toBe(id)
  })

  test('secret headers: the card shows their names; set and unset from the card, never the value', async () => {
    const target = peers[1999]!
    const search = page.getByRole('searchbox', { name: 'Search peers by name or id' })
    await search.fill(target.name)
    const card = page.locator(`li.peer[data-peer-id="${target.id}"]`)
    await card.locator('.peer-headers', { hasText: 'none' }).waitFor()
    await page.getByRole('button', { name: `Headers ${target.name}` }).click()
    const dialog = page.locator('#headers-dialog')
    await dialog.waitFor()
    await dialog.getByLabel('Header').fill('CF-Access-Client-Id')
    await dialog.getByLabel('Value').fill('abc123.access-secret-value')
    await dialog.getByRole('button', { name: 'Set header' }).click()
    await dialog.locator('.header-name', { hasText: 'CF-Access-Client-Id' }).waitFor()
    expect(await dialog.textContent()).not.toContain('abc123.access-secret-value')
    // This peer has no URL yet, so the headers are bound to no origin: the dialog says they go nowhere.
    expect(target.url).toBe('')
    await dialog
      .locator('#headers-for', { hasText: `Sent nowhere: no origin named. Name one with \`mazemaker peer headers for ${target.id.slice(0, 8)} https://…\`` })
      .waitFor()
    const file = join(homePaths(pod.home).peerHeadersDir, `${target.id}.toml`)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    await card.locator('.peer-headers', { hasText: 'CF-Access-Client-Id' }).waitFor()
    await dialog.getByRole('button', { name: 'Unset CF-Access-Client-Id' }).click()
    await dialog.locator('#headers-empty').waitFor()
    await dialog.getByRole('button', { name: 'Close' }).click()
    await card.locator('.peer-headers', { hasText: 'none' }).waitFor()

    // A peer with a URL: its headers go to that URL's origin only (loopback, so plain http is allowed).
    const withUrl = peers[1998]!
    await search.fill(withUrl.name)
    await page.getByRole('button', { name: `Headers ${withUrl.name}` }).click()
    await dialog.getByLabel('Header').fill('CF-Access-Client-Id')
    await dialog.getByLabel('Value').fill('abc123.access-secret-value')
    await dialog.getByRole('button', { name: 'Set header' }).click()
    await dialog.locator('#headers-for', { hasText: `Sent only to ${new URL(withUrl.url).origin} (` }).waitFor()
    await dialog.getByRole('button', { name: 'Unset CF-Access-Client-Id' }).click()
    await dialog.locator('#headers-empty').waitFor()
    expect(await dialog.locator('#headers-for').isHidden()).toBe(true)
    await dialog.getByRole('button', { name: 'Close' }).click()
    await search.fill('')
  })

  test("a card's Memories button shows what came from that peer (the origin menu lists no 2,000 names)", async () => {
    expect(await page.locator('#memory-origin option').count()).toBe(2)
    const target = peers[5]!
    await page.getByRole('searchbox', { name: 'Search peers by name or id' }).fill(target.name)
    await page.getByRole('button', { name: `Memories ${target.name}` }).click()
    expect(await page.locator('#memory-origin').inputValue()).toBe(target.id)
    await page.locator('#memory-status', { hasText: 'No memories yet.' }).waitFor()
    await page.getByRole('searchbox', { name: 'Search peers by name or id' }).fill('')
  })

  test('changes made elsewhere come over the live stream as changes only: a peer paused and one removed show, the counts follow', async () => {
    expect(await page.evaluate(() => document.body.dataset.live)).toBe('on')
    const [paused, removed] = [peers[1900]!, peers[1901]!]
    expect((await pod.api('PATCH', `/peer/peers/${paused.id}`, { sync: false })).status).toBe(200)
    expect((await pod.api('DELETE', `/peer/peers/${removed.id}`)).status).toBe(200)
    const now = await overview()
    const pausedCount = now.peers.filter((p) => p.status === 'paused').length
    await page.locator('#peer-filters button[data-status=""]', { hasText: `All ${now.peers.length}` }).waitFor()
    await page.locator('#peer-filters button[data-status="paused"]', { hasText: `‖ paused ${pausedCount}` }).waitFor()
    const search = page.getByRole('searchbox', { name: 'Search peers by name or id' })
    await search.fill(paused.name)
    await page.locator(`li.peer[data-peer-id="${paused.id}"] .badge.status-paused`).waitFor()
    await search.fill(removed.name)
    await page.locator('#peer-count', { hasText: 'none matches' }).waitFor()
    await search.fill('')
    // Still the pod's order after changes applied in the page: statuses never go back up.
    const shown = await statusesShown(page)
    for (let i = 1; i < shown.length; i++) expect(rank(shown[i]!)).toBeGreaterThanOrEqual(rank(shown[i - 1]!))
  })

  test('while the stream is live, a re-read of the page does not read the 2,000 peers again (the stream keeps them current)', async () => {
    expect(await page.evaluate(() => document.body.dataset.live)).toBe('on')
    const asked: string[] = []
    const note = (r: { url(): string }) => asked.push(new URL(r.url()).pathname)
    page.on('request', note)
    // The tab coming back into view re-reads the pod, as the minute's timer does; held memories come last.
    const done = page.waitForResponse((r) => new URL(r.url()).pathname === '/memories/held')
    await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')))
    await done
    page.off('request', note)
    expect(asked).toContain('/status')
    expect(asked).not.toContain('/peer/peers')
  })

  test('no script error on the way', () => {
    expect(problems).toEqual([])
  })
})

describe('peer list at hub scale', () => {
  test('--json lists the peers in the order the panel shows them', async () => {
    const cli = await runCli(['peer', 'list', '--json', '--home', pod.home])
    expect(cli.code).toBe(0)
    const listed = JSON.parse(cli.stdout) as PeersAnswer
    const order = (await overview()).peers.map((p) => p.id)
    expect(listed.peers.map((p) => p.id)).toEqual(order)
    const ranks = listed.peers.map((p) => rank(p.status))
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b))
  })

  test('--status error: the failing peers alone, by name, as a script reads them', async () => {
    // A hand-edited peers.toml is pulled at the next interval: pull five failing peers now, as
    // `mazemaker sync <id>` does (their URL refuses, so each pull fails: status error).
    const failing = peers.filter((p) => p.url !== '' && p.sync)
    const pulled = [failing[7]!, failing[300]!, failing[11]!, failing[1200]!, failing[3]!]
    for (const p of pulled) {
      const res = await pod.api<{ results: { ok: boolean; status: string }[] }>('POST', '/peer/sync-now', { peer: p.id })
      expect(res.body.results.map((r) => [r.ok, r.status])).toEqual([[false, 'error']])
    }
    const cli = await runCli(['peer', 'list', '--json', '--status', 'error', '--home', pod.home])
    expect(cli.code).toBe(0)
    const listed = JSON.parse(cli.stdout) as PeersAnswer
    expect(new Set(listed.peers.map((p) => p.status))).toEqual(new Set(['error']))
    expect(listed.peers.every((p) => p.last_error !== null && p.hint !== null)).toBe(true)
    const names = listed.peers.map((p) => p.name)
    expect(names).toEqual([...names].sort())
    // The pod's own loop may have pulled (and failed) others meanwhile: the five are among them.
    const ids = new Set(listed.peers.map((p) => p.id))
    expect(pulled.every((p) => ids.has(p.id))).toBe(true)
    const canFail = new Set<string>(failing.map((p) => p.id))
    expect(listed.peers.every((p) => canFail.has(p.id))).toBe(true)

    // The loop goes on failing peers between the two commands: the text shows at least as many.
    const text = await runCli(['peer', 'list', '--status', 'error', '--home', pod.home])
    const shown = /\((\d+) shown: --status error\)$/.exec(text.stdout.split('\n')[0]!)
    expect(shown).not.toBeNull()
    expect(Number(shown![1])).toBeGreaterThanOrEqual(listed.peers.length)
  })

  test('--status narrows to those statuses (several, comma-separated); an unknown one is a usage error', async () => {
    const cli = await runCli(['peer', 'list', '--json', '--status', 'revoked,paused', '--home', pod.home])
    expect(cli.code).toBe(0)
    const listed = JSON.parse(cli.stdout) as PeersAnswer
    const want = (await overview()).peers.filter((p) => p.status === 'revoked' || p.status === 'paused').map((p) => p.id)
    expect(listed.peers.map((p) => p.id)).toEqual(want)
    expect(listed.peers.slice(0, REVOKED).map((p) => p.status)).toEqual(['revoked', 'revoked', 'revoked'])

    const text = await runCli(['peer', 'list', '--status', 'revoked', '--home', pod.home])
    expect(text.stdout.split('\n')[0]).toEndWith(`(${REVOKED} shown: --status revoked)`)
    // Table rows (id, name, status …), not the hint lines under them.
    expect(text.stdout.split('\n').filter((l) => /^[0-9a-f]{8}\S*\s+spoke-\d{4}\s+revoked\s/.test(l))).toHaveLength(REVOKED)

    const bad = await runCli(['peer', 'list', '--status', 'broken', '--home', pod.home])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('unknown status "broken"')
  })
})
