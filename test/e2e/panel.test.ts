/**
 * End to end: two real pod processes (`mazemaker serve --port 0`), each driven through its
 * own panel in headless Chromium. Pair them from the panels, sync, see the other pod's public
 * memory, pause, edit scope, remove. Screenshots go to test-artifacts/ (gitignored).
 *
 * Needs /usr/bin/chromium: run scripts/ensure-chromium.sh once.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { cleanup, type PodProcess, spawnPod, tempHome } from '../helpers/pod-process'
import jsQR from 'jsqr'
import { PNG } from 'pngjs'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { FAKE_SECRETS } from '../store/_fake-secrets'

const ROOT = join(import.meta.dir, '..', '..')
const ARTIFACTS = join(ROOT, 'test-artifacts')
const CHROMIUM = '/usr/bin/chromium'
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]
/** Playwright waits for conditions (no sleeping); this caps each wait so a failure says where. */
const STEP_TIMEOUT_MS = 10_000
const TEST_TIMEOUT_MS = 30_000
// Every test drives a browser against real pods; the timeout is set once, not on each test.
setDefaultTimeout(TEST_TIMEOUT_MS)

interface RunningPod {
  name: string
  home: string
  url: string
  token: string
  id: string
  handshake: string
  process: PodProcess
  /** The pod's log so far, one line each. */
  readonly log: string[]
}

/** A real pod process (test/helpers/pod-process.ts) with its identity read once. */
async function startPod(name: string): Promise<RunningPod> {
  const p = await spawnPod({ home: tempHome(`mzm-e2e-${name}-`) })
  const identity = (await p.api<{ pod_id: string; handshake_url: string }>('GET', '/peer/identity')).body
  return {
    name,
    home: p.home,
    url: p.url,
    token: p.token(),
    id: identity.pod_id,
    handshake: identity.handshake_url,
    process: p,
    get log() {
      return p.logs().split('\n')
    },
  }
}

async function api<T>(pod: RunningPod, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${pod.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${pod.token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  })
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${await res.text()}`)
  return (await res.json()) as T
}

function decodeQr(png: Buffer): string | null {
  const img = PNG.sync.read(png)
  return jsQR(new Uint8ClampedArray(img.data), img.width, img.height)?.data ?? null
}

/** The identity card has loaded (an input's value is a property, not an attribute a selector sees). */
const handshakeShown = (page: Page) =>
  page.waitForFunction(() => (document.getElementById('handshake-url') as HTMLInputElement | null)?.value.startsWith('mzm-handshake://'))

const peerCard = (page: Page, id: string) => page.locator(`li.peer[data-peer-id="${id}"]`)

describe('operator panel, two real pods in Chromium', () => {
  let a: RunningPod
  let b: RunningPod
  let browser: Browser
  let ctxA: BrowserContext
  let ctxB: BrowserContext
  let pageA: Page
  let pageB: Page
  const requests: string[] = []
  const problems: string[] = []

  function watch(page: Page, label: string) {
    page.setDefaultTimeout(STEP_TIMEOUT_MS)
    page.on('request', (r) => requests.push(r.url()))
    // CSP violations and script errors show up here.
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`${label} console: ${m.text()}`)
    })
    page.on('pageerror', (e) => problems.push(`${label} pageerror: ${e.message}`))
  }

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/ensure-chromium.sh`)
    mkdirSync(ARTIFACTS, { recursive: true })
    ;[a, b] = await Promise.all([startPod('alpha'), startPod('bravo')])
    // Something to share and something that must stay home, on each side.
    await api(a, 'POST', '/memories', { label: 'public:greeting-from-alpha', content: 'hello from pod alpha' })
    await api(a, 'POST', '/memories', { label: 'notes:alpha-private', content: 'alpha secret diary' })
    await api(b, 'POST', '/memories', { label: 'public:greeting-from-bravo', content: 'hello from pod bravo' })
    await api(b, 'POST', '/memories', { label: 'notes:bravo-private', content: 'bravo secret diary' })

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
    ctxA = await browser.newContext({ colorScheme: 'dark', viewport: { width: 1280, height: 900 } })
    ctxB = await browser.newContext({ colorScheme: 'light', viewport: { width: 1280, height: 900 } })
    pageA = await ctxA.newPage()
    pageB = await ctxB.newPage()
    watch(pageA, 'alpha')
    watch(pageB, 'bravo')
  }, TEST_TIMEOUT_MS)

  afterAll(async () => {
    await browser?.close()
    for (const pod of [a, b]) {
      if (!pod) continue
      await cleanup([pod.process])
    }
  }, TEST_TIMEOUT_MS)

  test('without a token the panel says how to get one', async () => {
    await pageA.goto(`${a.url}/`)
    await expect(pageA.locator('#no-token').isVisible()).resolves.toBe(true)
    expect(await pageA.locator('#no-token').textContent()).toContain('mazemaker open')
    expect(await pageA.locator('#dashboard').isVisible()).toBe(false)
    await pageA.screenshot({ path: join(ARTIFACTS, 'panel-no-token.png') })
  })

  test('the token link opens the panel and leaves the address bar at once', async () => {
    for (const [page, pod] of [
      [pageA, a],
      [pageB, b],
    ] as const) {
      await page.goto(`${pod.url}/#token=${pod.token}`)
      await handshakeShown(page)
      expect(page.url()).toBe(`${pod.url}/`)
      expect(await page.evaluate(() => sessionStorage.getItem('mazemaker.admin-token'))).toBe(pod.token)
    }
    // A reload keeps working from session storage.
    await pageA.reload()
    await handshakeShown(pageA)
    expect(await pageA.locator('#no-token').isVisible()).toBe(false)
  })

  test('identity card: handshake URL, copy button, QR code of it', async () => {
    expect(await pageA.locator('#handshake-url').inputValue()).toBe(a.handshake)
    expect(await pageA.locator('#id-short').textContent()).toBe(a.id.slice(0, 8))
    // No [rendezvous] in pod.toml: the card says peers need direct URLs.
    await pageA.waitForFunction(() => document.getElementById('id-rendezvous')?.textContent?.startsWith('not used'))
    // The home's free space, as doctor and GET /status give it.
    await pageA.waitForFunction(() => /^\d+\.\d GiB free of \d+\.\d GiB on \//.test(document.getElementById('id-disk')?.textContent ?? ''))

    await ctxA.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: a.url })
    await pageA.getByRole('button', { name: 'Copy' }).click()
    await pageA.locator('#copy-status', { hasText: 'Copied' }).waitFor()
    expect(await pageA.evaluate(() => navigator.clipboard.readText())).toBe(a.handshake)

    const qr = pageA.locator('#qr')
    await qr.waitFor()
    expect(decodeQr(await qr.screenshot())).toBe(a.handshake)
  })

  test('pairing both ways from the panels: paste the handshake, give the URL', async () => {
    const pair = async (page: Page, other: RunningPod) => {
      await page.getByLabel('Their handshake URL').fill(other.handshake)
      await page.getByLabel(/^Their URL/).fill(other.url)
      await page.getByLabel(/^Name/).fill(other.name)
      await page.getByRole('button', { name: 'Add peer' }).click()
      await page.locator('#add-status', { hasText: `Added ${other.name}` }).waitFor()
      await peerCard(page, other.id).waitFor()
    }
    await pair(pageB, a)
    await pair(pageA, b)
    expect(await peerCard(pageB, a.id).locator('.peer-name').textContent()).toBe('alpha')
    expect(await peerCard(pageB, a.id).locator('.peer-url').textContent()).toBe(a.url)
    // No scope typed: a new peer's scope is *, everything the other pod's gate lets out.
    expect(await peerCard(pageB, a.id).locator('.peer-scope').textContent()).toBe('*')
  })

  test("sync now: both peers • ready, and the other pod's public memory shows up", async () => {
    for (const [page, other] of [
      [pageB, a],
      [pageA, b],
    ] as const) {
      const card = peerCard(page, other.id)
      await page.getByRole('button', { name: `Sync now ${other.name}` }).click()
      await card.locator('.peer-result', { hasText: /^Synced/ }).waitFor()
      // the card repaints after the result line, once the peers are re-read
      await card.locator('.peer-copies', { hasText: /^1$/ }).waitFor()
      await card.locator('.badge', { hasText: '• ready' }).waitFor()
      expect(await card.locator('.peer-last').textContent()).toBe('just now')
    }
    await pageB.locator('#summary', { hasText: '1 ready' }).waitFor()
    // The product page's M06 PEERS, with its peek badge beside the heading.
    expect(await pageB.locator('#peers-heading').textContent()).toBe('M06 PEERS 1 ready · 0 handshake-pending')

    // bravo holds alpha's public memory, marked as coming from alpha; alpha's private one never left.
    const fromAlpha = pageB.locator('.memory', { hasText: 'greeting-from-alpha' })
    await fromAlpha.waitFor()
    expect(await fromAlpha.locator('.tag-peer').textContent()).toBe('from alpha')
    expect(await pageB.locator('#memory-list').textContent()).not.toContain('alpha secret diary')
    // bravo's own private memory is marked private.
    expect(await pageB.locator('.memory', { hasText: 'notes:bravo-private' }).locator('.tag-private').count()).toBe(1)

    await pageA.screenshot({ path: join(ARTIFACTS, 'panel-dark.png'), fullPage: true })
    await pageB.screenshot({ path: join(ARTIFACTS, 'panel-light.png'), fullPage: true })
  })

  test('memory view: filter by origin and search', async () => {
    await pageB.getByLabel('Origin').selectOption(a.id)
    await pageB.locator('#memory-status', { hasText: 'from alpha' }).waitFor()
    const labels = await pageB.locator('.memory-label').allTextContents()
    expect(labels).toEqual(['public:greeting-from-alpha'])

    await pageB.getByLabel('Origin').selectOption('local')
    await pageB.locator('#memory-status', { hasText: 'from this pod' }).waitFor()
    expect(await pageB.locator('#memory-list').textContent()).not.toContain('greeting-from-alpha')

    await pageB.getByLabel('Origin').selectOption('')
    await pageB.getByRole('searchbox', { name: 'Search memories' }).fill('hello')
    await pageB.getByRole('button', { name: 'Search', exact: true }).click()
    await pageB.locator('#memory-status', { hasText: /match/ }).waitFor()
    const found = await pageB.locator('.memory-label').allTextContents()
    expect(found).toContain('public:greeting-from-alpha')
    expect(found).toContain('public:greeting-from-bravo')
    // back to the plain list
    await pageB.getByRole('searchbox', { name: 'Search memories' }).fill('')
    await pageB.getByRole('button', { name: 'Search', exact: true }).click()
    await pageB.locator('#memory-status', { hasText: 'most recent' }).waitFor()
  })

  test('bidi overrides and control characters in a memory are shown as escapes, never applied', async () => {
    await api(a, 'POST', '/memories', { label: 'notes:\u202egpj.exe', content: 'invoice attached \u202eexe.pdf\u2066\x1b[2J' })
    await pageA.getByRole('searchbox', { name: 'Search memories' }).fill('invoice')
    await pageA.getByRole('button', { name: 'Search', exact: true }).click()
    await pageA.locator('#memory-status', { hasText: /match/ }).waitFor()
    expect(await pageA.locator('.memory-label').allTextContents()).toEqual(['notes:\\u202egpj.exe'])
    expect(await pageA.locator('.memory-content').allTextContents()).toEqual(['invoice attached \\u202eexe.pdf\\u2066\\x1b[2J'])
    await pageA.getByRole('searchbox', { name: 'Search memories' }).fill('')
    await pageA.getByRole('button', { name: 'Search', exact: true }).click()
    await pageA.locator('#memory-status', { hasText: 'most recent' }).waitFor()
  })

  test('phone width: one readable column', async () => {
    const phone = await browser.newContext({ colorScheme: 'dark', viewport: { width: 390, height: 844 }, isMobile: true })
    const page = await phone.newPage()
    watch(page, 'phone')
    await page.goto(`${b.url}/#token=${b.token}`)
    await peerCard(page, a.id).locator('.badge', { hasText: 'ready' }).waitFor()
    // Nothing wider than the screen.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
    await page.screenshot({ path: join(ARTIFACTS, 'panel-phone.png'), fullPage: true })
    await phone.close()
  })

  test('edit scope in a dialog', async () => {
    await pageA.getByRole('button', { name: 'Edit scope bravo' }).click()
    const dialog = pageA.locator('#edit-dialog')
    await dialog.waitFor()
    await dialog.getByLabel('Scope').fill('public:*, decision:*')
    await dialog.getByRole('button', { name: 'Save' }).click()
    await dialog.waitFor({ state: 'hidden' })
    await peerCard(pageA, b.id).locator('.peer-scope', { hasText: 'public:*, decision:*' }).waitFor()
  })

  test('set URL takes a list (tried in order): the card shows it in order, and peers.toml gets an array', async () => {
    const dead = 'http://127.0.0.1:9'
    await pageA.getByRole('button', { name: 'Set URL bravo' }).click()
    const dialog = pageA.locator('#edit-dialog')
    await dialog.waitFor()
    expect(await dialog.getByLabel('URL').inputValue()).toBe(b.url)
    await dialog.getByLabel('URL').fill(`${dead} ${b.url}`)
    await dialog.getByRole('button', { name: 'Save' }).click()
    await dialog.waitFor({ state: 'hidden' })
    await peerCard(pageA, b.id)
      .locator('.peer-url', { hasText: `${dead} → ${b.url}` })
      .waitFor()
    const peers = await api<{ peers: { id: string; url: unknown; urls: string[] }[] }>(a, 'GET', '/peer/peers')
    expect(peers.peers.find((p) => p.id === b.id)).toMatchObject({ url: [dead, b.url], urls: [dead, b.url] })
    // Back to the one URL, for the tests that follow.
    await pageA.getByRole('button', { name: 'Set URL bravo' }).click()
    await dialog.getByLabel('URL').fill(b.url)
    await dialog.getByRole('button', { name: 'Save' }).click()
    await dialog.waitFor({ state: 'hidden' })
    await peerCard(pageA, b.id)
      .locator('.peer-url', { hasText: new RegExp(`^${b.url.replace(/[.]/g, '\\.')}$`) })
      .waitFor()
  })

  test('pause and resume change the badge', async () => {
    const card = peerCard(pageA, b.id)
    await pageA.getByRole('button', { name: 'Pause bravo' }).click()
    await card.locator('.badge', { hasText: '‖ paused' }).waitFor()
    expect(await card.locator('button[data-action=pause] .label').textContent()).toBe('Resume')
    await pageA.getByRole('button', { name: 'Resume bravo' }).click()
    await card.locator('.badge', { hasText: '• ready' }).waitFor()
  })

  test('a mass delete is held: the badge says so, and Accept deletions applies it', async () => {
    const ids: string[] = []
    for (let i = 0; i < 150; i++) ids.push((await api<{ id: string }>(b, 'POST', '/memories', { label: `public:bulk-${i}`, content: `bulk ${i}` })).id)
    await api(a, 'POST', '/peer/sync-now', { peer: b.id })
    const forget = async (id: string) =>
      expect((await fetch(`${b.url}/memories/${id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${b.token}` } })).status).toBe(204)
    for (const id of ids.slice(0, 120)) await forget(id)

    const card = peerCard(pageA, b.id)
    await pageA.getByRole('button', { name: `Sync now bravo` }).click()
    await card.locator('.badge', { hasText: '! held' }).waitFor()
    expect(await card.locator('.peer-error').textContent()).toContain('deleted or rewrote 120 of the')
    const accept = pageA.getByRole('button', { name: 'Accept deletions bravo' })
    await accept.click()
    await card.locator('.peer-result', { hasText: 'Accepted: 120 copies deleted.' }).waitFor()
    await card.locator('.badge', { hasText: '• ready' }).waitFor()
    expect(await accept.isVisible()).toBe(false)
    // Leave both pods as the next tests expect them (30 deletions are no mass delete).
    for (const id of ids.slice(120)) await forget(id)
    await api(a, 'POST', '/peer/sync-now', { peer: b.id })
  })

  test('memories: add, edit, re-label and forget (asking first) from the panel; each says which peers receive it', async () => {
    const memory = (label: string) => pageA.locator('.memory', { has: pageA.locator('.memory-label', { hasText: new RegExp(`^${label}$`) }) })
    const save = async (label: string, content: string) => {
      const dialog = pageA.locator('#memory-dialog')
      await dialog.waitFor()
      await dialog.getByLabel('Label').fill(label)
      await dialog.getByLabel('Content').fill(content)
      await dialog.getByRole('button', { name: 'Save' }).click()
      await dialog.waitFor({ state: 'hidden' })
    }
    await pageA.getByRole('button', { name: 'Add memory' }).click()
    await save('public:panel-note', 'written in the panel')
    await pageA.locator('#memory-action-status', { hasText: 'Added public:panel-note.' }).waitFor()
    // bravo pulls alpha's shared memories (scope *): this one reaches it.
    await memory('public:panel-note').locator('.memory-audience', { hasText: 'Received by: bravo' }).waitFor()

    await pageA.getByRole('button', { name: 'Edit public:panel-note' }).click()
    expect(await pageA.locator('#memory-edit-content').inputValue()).toBe('written in the panel')
    await save('public:panel-note', 'edited in the panel')
    await memory('public:panel-note').locator('.memory-content', { hasText: 'edited in the panel' }).waitFor()

    // Re-label private: encrypted here, received by nobody.
    await pageA.getByRole('button', { name: 'Edit public:panel-note' }).click()
    await save('notes:panel-note', 'edited in the panel')
    await memory('notes:panel-note').locator('.tag-private').waitFor()
    expect(await memory('notes:panel-note').locator('.memory-audience').count()).toBe(0)

    // Forget asks first: Escape keeps it, focus back on the button.
    const forget = pageA.getByRole('button', { name: 'Forget notes:panel-note' })
    await forget.click()
    const dialog = pageA.locator('#forget-dialog')
    await dialog.waitFor()
    expect(await dialog.textContent()).toContain('Forget “notes:panel-note”?')
    await pageA.keyboard.press('Escape')
    await dialog.waitFor({ state: 'hidden' })
    expect(await forget.evaluate((el) => el === document.activeElement)).toBe(true)
    await forget.click()
    await dialog.getByRole('button', { name: 'Forget', exact: true }).click()
    await memory('notes:panel-note').waitFor({ state: 'detached' })
    await pageA.locator('#memory-action-status', { hasText: 'Forgot notes:panel-note.' }).waitFor()
    expect((await api<{ memories: { label: string }[] }>(a, 'GET', '/memories?prefix=notes:panel')).memories).toEqual([])
  })

  test('a credential is held: the panel warns, lists it under Held back, and Release lets it through', async () => {
    await pageA.getByRole('button', { name: 'Add memory' }).click()
    const dialog = pageA.locator('#memory-dialog')
    await dialog.getByLabel('Label').fill('public:ci-token')
    await dialog.getByLabel('Content').fill(FAKE_SECRETS['GitHub token']!)
    await dialog.getByRole('button', { name: 'Save' }).click()
    await pageA.locator('#memory-action-status', { hasText: 'held back from every peer' }).waitFor()
    const item = pageA.locator('.memory', { hasText: 'public:ci-token' })
    await item.locator('.tag-held').waitFor()
    expect(await item.locator('.memory-audience').textContent()).toBe('Held back from every peer.')
    const held = pageA.locator('#held')
    await held.waitFor()
    expect(await held.locator('.held-label').allTextContents()).toEqual(['public:ci-token'])
    expect((await api<{ total: number }>(a, 'GET', `/peer/peers/${b.id}/preview`)).total).toBe(1) // only the greeting

    await held.getByRole('button', { name: 'Release public:ci-token' }).click()
    await held.waitFor({ state: 'hidden' })
    await item.locator('.memory-audience', { hasText: 'Received by: bravo' }).waitFor()
    expect(await item.locator('.tag-held').count()).toBe(0)
  })

  test("a peer's share preview and access log open from its card", async () => {
    await api(b, 'POST', '/peer/sync-now', { peer: a.id })
    await pageA.getByRole('button', { name: 'Preview bravo' }).click()
    const view = pageA.locator('#peer-view-dialog')
    await view.locator('#peer-view-summary', { hasText: 'if it pulled everything now' }).waitFor()
    expect(await view.locator('#peer-view-summary').textContent()).toStartWith(
      '2 memories if it pulled everything now (scope *, the scope it pulls with) — by prefix: public: 2.',
    )
    expect(await view.locator('.preview-label').allTextContents()).toEqual(['public:ci-token', 'public:greeting-from-alpha'])
    await pageA.screenshot({ path: join(ARTIFACTS, 'panel-preview.png') })
    await view.getByRole('button', { name: 'Close' }).click()
    await view.waitFor({ state: 'hidden' })

    await pageA.getByRole('button', { name: 'Log bravo' }).click()
    await view.locator('#peer-view-summary', { hasText: /^Last \d+ pulls/ }).waitFor()
    // bravo's latest pull got the released token (and the panel note's fate).
    expect(await view.locator('li').first().textContent()).toMatch(/\d+ entr(y|ies)/)
    await view.getByRole('button', { name: 'Close' }).click()
    // Leave bravo holding one copy of alpha's, as the next test expects.
    const { memories } = await api<{ memories: { id: string }[] }>(a, 'GET', '/memories?prefix=public:ci-token')
    const res = await fetch(`${a.url}/memories/${memories[0]!.id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${a.token}` } })
    expect(res.status).toBe(204)
    await api(b, 'POST', '/peer/sync-now', { peer: a.id })
    // bravo's panel re-reads its peers every few seconds: wait until it shows the one copy left.
    await peerCard(pageB, a.id).locator('.peer-copies', { hasText: /^1$/ }).waitFor()
  })

  test("a peer's preview says what its scope leaves out", async () => {
    // bravo narrows what it pulls from alpha to public:*; alpha shares an auto: memory too.
    await api(b, 'PATCH', `/peer/peers/${a.id}`, { scope: 'public:*' })
    await api(a, 'POST', '/memories', { label: 'auto:tide-notes', content: 'shared, but not asked for' })
    await api(b, 'POST', '/peer/sync-now', { peer: a.id })
    await pageA.getByRole('button', { name: 'Preview bravo' }).click()
    const view = pageA.locator('#peer-view-dialog')
    await view.locator('#peer-view-left-out', { hasText: 'Its scope leaves out: 1 auto: memory not in scope.' }).waitFor()
    await view.getByRole('button', { name: 'Close' }).click()
    // The access log says nothing of scopes.
    await pageA.getByRole('button', { name: 'Log bravo' }).click()
    await view.locator('#peer-view-summary', { hasText: /pulls|Nothing served/ }).waitFor()
    expect(await view.locator('#peer-view-left-out').isVisible()).toBe(false)
    await view.getByRole('button', { name: 'Close' }).click()
  })

  test('a handshake URL that carries no address is flagged on the pod card, until an address is advertised', async () => {
    const warning = pageA.locator('#advertise-warning')
    await warning.waitFor()
    expect(await warning.textContent()).toContain('the handshake URL carries no address')
    // A pod on loopback has nothing to suggest (only this machine reaches it): no button.
    expect(await pageA.locator('#advertise-suggested').isVisible()).toBe(false)
    await fetch(`${a.url}/peer/advertise`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${a.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ advertise: ['https://alpha.tail-foo.ts.net'] }),
    })
    await pageA.reload()
    await handshakeShown(pageA)
    // The memory list is read after the pod card's checks: once it shows, the card has been checked.
    await pageA.locator('#memory-status', { hasText: /\S/ }).waitFor()
    expect(await warning.isVisible()).toBe(false)
    expect(await pageA.locator('#handshake-url').inputValue()).toContain('url=https%3A%2F%2Falpha.tail-foo.ts.net')
    await fetch(`${a.url}/peer/advertise`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${a.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ advertise: [] }),
    })
  })

  test('remove asks first (Escape keeps the peer), then removes and purges the copies', async () => {
    const removeButton = pageB.getByRole('button', { name: 'Remove alpha' })
    await removeButton.click()
    const dialog = pageB.locator('#remove-dialog')
    await dialog.waitFor()
    expect(await dialog.textContent()).toContain('Also delete the 1 copy held here')
    // keyboard: Escape cancels, focus returns to the button that opened it
    await pageB.keyboard.press('Escape')
    await dialog.waitFor({ state: 'hidden' })
    expect(await removeButton.evaluate((el) => el === document.activeElement)).toBe(true)
    expect(await peerCard(pageB, a.id).count()).toBe(1)

    await removeButton.click()
    await dialog.getByLabel(/Also delete/).check()
    await dialog.getByRole('button', { name: 'Remove', exact: true }).click()
    await peerCard(pageB, a.id).waitFor({ state: 'detached' })
    await pageB.locator('#sync-all-status', { hasText: 'Removed alpha, 1 copy deleted' }).waitFor()
    await pageB.locator('#peers-empty').waitFor()
    // the purged copy leaves the memory view; bravo's own memories stay
    await pageB.locator('.memory', { hasText: 'greeting-from-alpha' }).waitFor({ state: 'detached' })
    expect(await pageB.locator('.memory', { hasText: 'greeting-from-bravo' }).count()).toBe(1)
    expect((await api<{ peers: unknown[] }>(b, 'GET', '/peer/peers')).peers).toEqual([])
  })

  test('a pod that is no longer a peer tries to pull: listed under "pods that tried to pull from you", as text only', async () => {
    // bravo removed alpha; alpha still pulls from bravo and is refused.
    await api(a, 'POST', '/peer/sync-now', {})
    await pageB.reload()
    const box = pageB.locator('#unknown-callers')
    await box.waitFor()
    await box.locator('li', { hasText: a.id.slice(0, 8) }).waitFor()
    expect(await box.textContent()).toContain('1 request')
    // Nothing to click: pairing needs their pasted handshake URL.
    expect(await box.locator('button, a, input').count()).toBe(0)
  })

  test('no request left 127.0.0.1, and no console or script error (CSP included)', () => {
    const offHost = requests.filter((u) => !u.startsWith('data:') && new URL(u).hostname !== '127.0.0.1')
    expect(offHost).toEqual([])
    expect(requests.length).toBeGreaterThan(10)
    expect(problems).toEqual([])
  })

  test('the admin token never reaches a pod log', () => {
    for (const pod of [a, b]) expect(pod.log.filter((l) => l.includes(pod.token))).toEqual([])
  })
})
