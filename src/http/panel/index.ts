/**
 * The operator panel's static files: GET / (the page) and /assets/{panel.js,panel.css,uqr.mjs,shown.mjs,sharing.mjs}.
 * They hold no data (the page fetches the admin API with the token from its URL fragment), so
 * they need no auth. Everything is embedded at build time with Bun text imports, so a
 * `bun build --compile` binary serves the panel offline, with no CDN and no file on disk.
 */
import { Hono } from 'hono'
import indexHtml from './index.html' with { type: 'text' }
// TypeScript cannot model import attributes: it types these imports from the files themselves
// (no type for .css, an untyped .js, uqr's module types), while Bun hands us each file's text.
// @ts-expect-error TS2307: no declaration for .css; Bun imports it as text
import panelCss from './panel.css' with { type: 'text' }
// @ts-expect-error TS7016: panel.js is a browser module; Bun imports it as text
import panelJs from './panel.js' with { type: 'text' }
// @ts-expect-error TS7016: a vendored browser module (see its header); Bun imports it as text
import uqrJs from './uqr.mjs' with { type: 'text' }
// @ts-expect-error TS7016: a browser module; Bun imports it as text
import shownJs from './shown.mjs' with { type: 'text' }
// @ts-expect-error TS7016: a browser module; Bun imports it as text
import sharingJs from './sharing.mjs' with { type: 'text' }

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
  return {
    '/': { body: text(indexHtml, 'index.html'), type: 'text/html; charset=utf-8', cache: 'no-store' },
    '/assets/panel.js': { body: text(panelJs, 'panel.js'), type: 'text/javascript; charset=utf-8', cache },
    '/assets/panel.css': { body: text(panelCss, 'panel.css'), type: 'text/css; charset=utf-8', cache },
    '/assets/uqr.mjs': { body: text(uqrJs, 'uqr.mjs'), type: 'text/javascript; charset=utf-8', cache },
    '/assets/shown.mjs': { body: text(shownJs, 'shown.mjs'), type: 'text/javascript; charset=utf-8', cache },
    '/assets/sharing.mjs': { body: text(sharingJs, 'sharing.mjs'), type: 'text/javascript; charset=utf-8', cache },
  }
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
