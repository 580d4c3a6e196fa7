/** The panel's static routes: headers (CSP and friends), content types, and that the page stays self-contained. */
import { describe, expect, test } from 'bun:test'
import { createPanelRoutes, PANEL_ASSETS, PANEL_CSP } from '../../src/http/panel'

const app = createPanelRoutes()
const MODULES = Object.keys(PANEL_ASSETS)
  .filter((n) => /\.m?js$/.test(n))
  .sort()
const CSS = Object.keys(PANEL_ASSETS).filter((n) => n.endsWith('.css'))
const get = (path: string) => app.request(path)

describe('panel routes', () => {
  test.each([
    ['/', 'text/html; charset=utf-8'],
    ...Object.keys(PANEL_ASSETS).map((name) => [`/assets/${name}`, name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8']),
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
    for (const name of CSS) expect(await text(`/assets/${name}`)).not.toMatch(/@import|url\(/)
    // Absolute URLs appear only as examples shown to the operator, never as something fetched
    // (a backslash ends one: it escapes the quote of the string that holds the example).
    const examples = new Set(['https://peer.tail-foo.ts.net', 'https://…', 'http://…'])
    // uqr.mjs (vendored, checked against its package) names its own homepage and the SVG namespace.
    for (const name of MODULES.filter((n) => n !== 'uqr.mjs')) {
      const js = await text(`/assets/${name}`)
      expect({ name, urls: (js.match(/https?:\/\/[^\s'`"\\]*/g) ?? []).filter((u) => !examples.has(u)) }).toEqual({ name, urls: [] })
      expect({ name, apis: js.match(/WebSocket|EventSource|sendBeacon|importScripts|XMLHttpRequest/g) }).toEqual({ name, apis: null })
    }
  })

  test('the modules import only each other, and panel.js reaches every one served', async () => {
    const served = new Set(Object.keys(PANEL_ASSETS))
    const reached = new Set<string>()
    const visit = async (name: string) => {
      if (reached.has(name)) return
      reached.add(name)
      const js = await text(`/assets/${name}`)
      for (const [, spec] of js.matchAll(/^import (?!type)[^'\n]* from '([^']+)'/gm)) {
        expect(spec).toMatch(/^\.\/[a-z-]+\.m?js$/)
        expect(served.has(spec!.slice(2))).toBe(true)
        await visit(spec!.slice(2))
      }
    }
    await visit('panel.js')
    expect([...reached].sort()).toEqual(MODULES)
  })

  test('the page preloads every module panel.js imports (no round trip per import level)', async () => {
    const html = await text('/')
    const preloaded = [...html.matchAll(/<link rel="modulepreload" href="assets\/([^"]+)">/g)].map((m) => m[1]!)
    expect(['panel.js', ...preloaded].sort()).toEqual(MODULES)
  })

  test('only api.js and stream.js talk to the pod (fetch), and nothing parses a server string as HTML', async () => {
    for (const name of MODULES) {
      const js = await text(`/assets/${name}`)
      expect({ name, html: js.match(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/g) }).toEqual({ name, html: null })
      if (!['api.js', 'stream.js'].includes(name)) expect({ name, fetch: /\bfetch\(/.test(js) }).toEqual({ name, fetch: false })
    }
    // shown.js is self-contained: no imports, nothing fetched.
    expect(await text('/assets/shown.js')).not.toMatch(/^import |\bfetch\(|https?:\/\//m)
  })

  test('uqr is served whole, with no imports of its own, and exports renderSVG', async () => {
    const uqr = await text('/assets/uqr.mjs')
    expect(uqr).not.toMatch(/^import /m)
    expect(uqr).toMatch(/export \{[^}]*renderSVG/)
  })

  test('every element a module looks up by id exists in the page', async () => {
    const html = await text('/')
    const js = (await Promise.all(MODULES.map((name) => text(`/assets/${name}`)))).join('\n')
    const ids = new Set([...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]))
    const used = [...js.matchAll(/\$\('([a-z0-9-]+)'[,)]/g)].map((m) => m[1]!)
    expect(used.length).toBeGreaterThan(20)
    expect(used.filter((id) => !ids.has(id))).toEqual([])
  })

  test('without a token the page explains `mazemaker open`', async () => {
    expect(await text('/')).toContain('<code>mazemaker open</code>')
  })
})
