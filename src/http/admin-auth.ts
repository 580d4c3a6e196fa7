/**
 * Admin authentication: every local route except /healthz, the peer-facing /peer/sync,
 * /peer/identity (the handshake URL's public contents) and the panel's static files needs `Authorization: Bearer <admin.token>` — from loopback too, because
 * tunnels and reverse proxies connect from loopback. A pair token (`mzm1.…`) is not an admin token.
 */
import type { MiddlewareHandler } from 'hono'
import { AuthError } from '../lib/errors'
import { authenticated } from './edge-guard'

export function adminAuth(check: (token: string | undefined) => boolean): MiddlewareHandler {
  return async function requireAdmin(c, next) {
    const header = c.req.header('authorization') ?? ''
    const m = /^Bearer\s+(\S+)$/i.exec(header)
    if (!check(m?.[1])) {
      c.header('WWW-Authenticate', 'Bearer realm="mazemaker"')
      throw new AuthError('unauthorized', 'admin token required: send Authorization: Bearer <contents of admin.token> (run `mazemaker open` for a panel link)')
    }
    authenticated(c)
    await next()
  }
}
