/** The panel's static routes: headers (CSP and friends), content types, and that the page stays self-contained. */
import { describe, expect, test } from 'bun:test'
import { createPanelRoutes, PANEL_CSP } from '../../src/http/panel'

const app = createPanelRoutes()
const get = (path: string) => app.request(path)

describe('panel routes', () => {
  test.each([
    ['/', 'text/html; charset=utf-8'],
    ['/assets/panel.js', 'text/javascript; charset=utf-8'],
    ['/assets/panel.css', 'text/css; charset=utf-8'],
    ['/assets/uqr.mjs', 'text/javascript; charset=utf-8'],
    ['/assets/shown.mjs', 'text/javascript; charset=utf-8'],
    ['/assets/sharing.mjs', 'text/javascript; charset=utf-8'],
  ])('%s is served as %s with the security headers', async (path, type) => {
    const res = await get(path)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe(type)
    expect(res.headers.get('content-security-policy')).toBe(PANEL_CSP)
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('referrer-policy')).toBe('no-referrer')
    expect((await res.text()).length).toBeGreaterThan(500)
  })

  test('the CSP is the one the brief fixes', () => {
    expect(PANEL_CSP).toBe("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
  })

  test('the page is never cached; assets briefly and privately', async () => {
    expect((await get('/')).headers.get('cache-control')).toBe('no-store')
    expect((await get('/assets/panel.js')).headers.get('cache-control')).toMatch(/^private, max-age=\d+$/)
  })

  test('anything else is not the panel', async () => {
    expect((await get('/assets/other.js')).status).toBe(404)
    expect((await get('/index.html')).status).toBe(404)
  })
})

describe('panel page content', () => {
  const text = async (path: string) => (await get(path)).text()

  test('no inline script, inline style, or style attribute (the CSP would block them)', async () => {
    const html = await text('/')
    for (const tag of html.match(/<script\b[^>]*>/g) ?? []) expect(tag).toContain('src="assets/')
    expect(html).not.toMatch(/<style\b/i)
    expect(html).not.toMatch(/\sstyle=/i)
    expect(html).not.toMatch(/\son[a-z]+=/i) // inline event handlers
  })

  test('no external resource anywhere: only relative assets and data: URLs', async () => {
    const html = await text('/')
    for (const m of html.matchAll(/\b(?:src|href)="([^"]*)"/g)) expect(m[1]).toMatch(/^(assets\/|#|data:)/)
    const css = await text('/assets/panel.css')
    expect(css).not.toMatch(/@import|url\(/)
    const js = await text('/assets/panel.js')
    // Absolute URLs appear only as examples shown to the operator, never as something fetched.
    const examples = new Set(['https://peer.tail-foo.ts.net', 'https://…', 'http://…'])
    expect((js.match(/https?:\/\/[^\s'`"]*/g) ?? []).filter((u) => !examples.has(u))).toEqual([])
    expect(js.match(/WebSocket|EventSource|sendBeacon|importScripts|XMLHttpRequest/g)).toBeNull()
    expect([...js.matchAll(/^import .* from '([^']+)'/gm)].map((m) => m[1])).toEqual(['./uqr.mjs', './shown.mjs', './sharing.mjs'])
    // shown.mjs is self-contained: no imports, nothing fetched.
    const shownJs = await text('/assets/shown.mjs')
    expect(shownJs).not.toMatch(/^import |\bfetch\(|https?:\/\//m)
    // sharing.mjs reaches the pod only through panel.js's api(): no imports, no fetch, no URL.
    const sharingJs = await text('/assets/sharing.mjs')
    expect(sharingJs).not.toMatch(/^import |\bfetch\(|https?:\/\/|innerHTML|insertAdjacentHTML/m)
  })

  test('server strings are never parsed as HTML', async () => {
    const js = await text('/assets/panel.js')
    expect(js.match(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/g)).toBeNull()
  })

  test('uqr is served whole, with no imports of its own, and exports renderSVG', async () => {
    const uqr = await text('/assets/uqr.mjs')
    expect(uqr).not.toMatch(/^import /m)
    expect(uqr).toMatch(/export \{[^}]*renderSVG/)
  })

  test('every element panel.js looks up by id exists in the page', async () => {
    const [html, js] = await Promise.all([text('/'), text('/assets/panel.js')])
    const ids = new Set([...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]))
    const used = [...js.matchAll(/\$\('([a-z0-9-]+)'\)/g)].map((m) => m[1]!)
    expect(used.length).toBeGreaterThan(20)
    expect(used.filter((id) => !ids.has(id))).toEqual([])
  })

  test('without a token the page explains `mazemaker open`', async () => {
    expect(await text('/')).toContain('<code>mazemaker open</code>')
  })
})
