/**
 * Optional CORS and Private Network Access answers, so a dashboard hosted on another origin can
 * call this loopback pod. Only origins listed in pod.toml `allowed_origins` get any CORS header;
 * none are listed by default, and every call still needs the admin token.
 *
 * Preflight (OPTIONS with Access-Control-Request-Method) from an allowed origin: 204 with the exact
 * origin echoed, the methods and headers the local API uses, and, when Chrome asks with
 * `Access-Control-Request-Private-Network: true` (a public page reaching a private address),
 * `Access-Control-Allow-Private-Network: true`. A preflight from any other origin: 403, no CORS
 * headers. Actual requests from an allowed origin get ACAO + `Vary: Origin`; others get nothing
 * (the browser then withholds the answer from the page).
 */
import type { MiddlewareHandler } from 'hono'
import { PodError } from '../lib/errors'

/** How long a browser may cache a preflight answer. */
export const CORS_MAX_AGE_S = 600
const ALLOW_METHODS = 'GET, POST, PATCH, DELETE, OPTIONS'
const ALLOW_HEADERS = 'Authorization, Content-Type'

/**
 * `https://Dash.Example:443/` → `https://dash.example:443`: browsers send a lowercase scheme and
 * host with no path, so compare like that. `null` (sandboxed frames, file://) is never allowed,
 * even if listed, and neither is a `*` wildcard: the operator names each origin.
 */
export function normaliseOrigin(origin: string): string | null {
  const trimmed = origin.trim().replace(/\/+$/, '')
  if (trimmed === '' || trimmed === 'null' || trimmed.includes('*')) return null
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#\s]+)$/i.exec(trimmed)
  if (!m) return null
  return `${m[1]!.toLowerCase()}://${m[2]!.toLowerCase()}`
}

/**
 * Hono middleware; `allowedOrigins` is read per request, so a pod.toml reload applies at once.
 * @example app.use(corsMiddleware(() => config.allowed_origins))
 */
export function corsMiddleware(allowedOrigins: () => string[]): MiddlewareHandler {
  return async function cors(c, next) {
    const origin = c.req.header('origin')
    if (origin === undefined) return next()

    const wanted = normaliseOrigin(origin)
    const allowed = wanted !== null && allowedOrigins().some((o) => normaliseOrigin(o) === wanted)
    const isPreflight = c.req.method === 'OPTIONS' && c.req.header('access-control-request-method') !== undefined

    if (isPreflight) {
      if (!allowed) {
        throw new PodError('forbidden', `origin ${origin} is not allowed; list it in allowed_origins in pod.toml`)
      }
      const headers: Record<string, string> = {
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Allow-Methods': ALLOW_METHODS,
        'Access-Control-Allow-Headers': ALLOW_HEADERS,
        'Access-Control-Max-Age': String(CORS_MAX_AGE_S),
        Vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network',
      }
      if (c.req.header('access-control-request-private-network') === 'true') {
        headers['Access-Control-Allow-Private-Network'] = 'true'
      }
      return c.body(null, 204, headers)
    }

    if (allowed) {
      // Set before next() so they also land on error answers (a 401 must be readable by the page).
      c.header('Access-Control-Allow-Origin', origin)
      c.header('Vary', 'Origin', { append: true })
    }
    await next()
  }
}
