/**
 * The operator panel's static files: GET / (the page) and /assets/<file> for its style sheets and
 * browser modules. They hold no data (the page fetches the admin API with the token from its URL
 * fragment), so they need no auth. Everything is embedded at build time with Bun text imports
 * (./assets.ts), so a `bun build --compile` binary serves the panel offline, with no CDN and no
 * file on disk; the browser loads the modules as they are (no bundling step, nothing to build at
 * start-up).
 */
import { Hono } from 'hono'
import { INDEX_HTML, PANEL_ASSETS } from './assets'

export { PANEL_ASSETS } from './assets'

/** The page may only talk to its own origin; no inline script or style, no framing. */
export const PANEL_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'"

/** Assets are embedded per build, so a browser may keep them briefly; the page itself never. */
const ASSET_MAX_AGE_S = 300

const COMMON_HEADERS: Record<string, string> = {
  'Content-Security-Policy': PANEL_CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
}

interface Asset {
  body: string
  type: string
  cache: string
}

/** Fails loudly at startup if a bundler ever stops handing us the text. */
function text(value: unknown, name: string): string {
  if (typeof value !== 'string') throw new Error(`panel asset ${name} was not embedded as text; build with bun`)
  return value
}

function assets(): Record<string, Asset> {
  const cache = `private, max-age=${ASSET_MAX_AGE_S}`
  const out: Record<string, Asset> = { '/': { body: text(INDEX_HTML, 'index.html'), type: 'text/html; charset=utf-8', cache: 'no-store' } }
  for (const [name, [body, type]] of Object.entries(PANEL_ASSETS)) out[`/assets/${name}`] = { body: text(body, name), type, cache }
  return out
}

/**
 * Routes for the panel's static files, to mount before the admin auth middleware.
 * @example app.route('/', createPanelRoutes())
 */
export function createPanelRoutes(): Hono {
  const app = new Hono()
  for (const [path, asset] of Object.entries(assets())) {
    app.get(path, function servePanelAsset(c) {
      return c.body(asset.body, 200, { ...COMMON_HEADERS, 'Content-Type': asset.type, 'Cache-Control': asset.cache })
    })
  }
  return app
}
