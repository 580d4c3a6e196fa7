/**
 * The pod's fetch: POST /peer/sync, the route every live peer asks again after each answer, is
 * served without Hono's context and middleware dispatch, through the same steps the app gives
 * every route (edge guard, request timing, protocol version, the error mapper) and the same
 * handler as its Hono route; everything else goes to the app. A request with an `Origin`
 * header (a browser's: CORS applies) or a path Hono would have to decode goes to the app too.
 */
import { asDiskFull } from '../lib/disk-space'
import { PROTOCOL_HEADER, SIGNATURE_HEADER, SYNC_ROUTE } from '../protocol'
import type { ConnInfo } from '../runtime'
import { createApp } from './app'
import type { AppDeps } from './deps'
import { EdgeGuard, sessionAuthenticated, sessionTimeLeftMs, type EdgeSession } from './edge-guard'
import { createErrorAnswer, errorResponse, jsonResponse } from './errors'
import { peerSyncHandler } from './peer-sync'
import { protocolOf, withProtocol } from './protocol-version'

export interface PodFetch {
  /** The Hono app (every route, /peer/sync included). */
  app: ReturnType<typeof createApp>
  /** What the servers call: /peer/sync directly, the rest through the app. */
  fetch(req: Request, conn: ConnInfo | undefined): Response | Promise<Response>
  /** An in-process request (tests, the CLI's pod.request) through the same fetch. */
  request(path: string, init?: RequestInit): Promise<Response>
}

export function createPodFetch(deps: AppDeps): PodFetch {
  const guard = new EdgeGuard({ onCapReached: deps.onEdgeCap, connectionIdleMs: deps.connectionIdleMs })
  const answerError = createErrorAnswer(deps.log, 'pod', (err) => asDiskFull(err, deps.homeDir))
  const app = createApp(deps, { guard, answerError })
  const handle = peerSyncHandler(deps)

  async function servePeerSync(req: Request, conn: ConnInfo | undefined): Promise<Response> {
    const session = guard.admit(req, conn)
    if (session instanceof Response) return session
    const started = performance.now()
    let res: Response
    try {
      res = await answer(req, session)
    } finally {
      session.release?.()
      session.release = null
    }
    deps.observeRequest(SYNC_ROUTE, res.status, performance.now() - started)
    return guard.finish(session, req, res)
  }

  async function answer(req: Request, session: EdgeSession): Promise<Response> {
    const version = protocolOf(req)
    if (typeof version !== 'number') return jsonResponse(version.body, version.status, version.headers)
    try {
      const { body, headers } = await handle(req, { authenticated: () => sessionAuthenticated(session), bodyTimeLeftMs: () => sessionTimeLeftMs(session) })
      // The version goes in with the other headers: setting it afterwards made the answer's Headers object too.
      return new Response(body, {
        status: 200,
        headers: { 'content-type': headers['content-type'], [SIGNATURE_HEADER]: headers[SIGNATURE_HEADER], [PROTOCOL_HEADER]: String(version) },
      })
    } catch (err) {
      return withProtocol(errorResponse(answerError(err instanceof Error ? err : new Error(String(err)), SYNC_ROUTE)), version)
    }
  }

  const fetch = (req: Request, conn: ConnInfo | undefined) => (isPeerSync(req) ? servePeerSync(req, conn) : app.fetch(req, conn))
  return {
    app,
    fetch,
    request: async (path, init) => fetch(new Request(new URL(path, 'http://localhost'), init), undefined),
  }
}

/** POST /peer/sync exactly (a query aside), from no browser. */
function isPeerSync(req: Request): boolean {
  if (req.method !== 'POST' || req.headers.has('origin')) return false
  const url = req.url
  const start = url.indexOf('/', url.indexOf('//') + 2)
  if (start < 0) return false
  const end = url.indexOf('?', start)
  return (end < 0 ? url.slice(start) : url.slice(start, end)) === SYNC_ROUTE
}
