/**
 * createApp wires the pod's HTTP surface: /healthz, /peer/sync and /peer/identity (no admin
 * token), the panel's static files, then the admin-only local API (memories, peers, MCP, metrics).
 */
import { Hono } from 'hono'
import { routePath } from 'hono/route'
import { HEALTHZ_ROUTE, PROTOCOL_VERSION } from '../protocol'
import { adminAuth } from './admin-auth'
import { readBodyFirst } from './admin-body'
import { EdgeGuard } from './edge-guard'
import { corsMiddleware } from './cors'
import { createPanelRoutes } from './panel'
import type { AppDeps } from './deps'
import { createErrorAnswer, type ErrorAnswer, notFound, onErrorWith } from './errors'
import { asDiskFull, diskSpace, type DiskSpace } from '../lib/disk-space'
import { mcpRoutes } from '../mcp/http-route'
import { memoryRoutes } from './memories'
import { identityRoute, peerAdminRoutes } from './peer-admin'
import { advertiseAdminRoutes } from './advertise-admin'
import { peerHeadersAdminRoutes } from './peer-headers-admin'
import { peerSyncRoutes } from './peer-sync'
import { eventRoutes } from './events'

/** Smallest local API body cap: MCP framing and peer admin bodies fit well inside it. */
const MIN_ADMIN_BODY_BYTES = 1024 * 1024

/**
 * Largest local API body for a pod whose memories may hold `maxContentBytes`: JSON escaping can
 * double a text (quotes, backslashes, newlines), plus room for the label and framing. A fixed cap
 * refused memories that pod.toml allows (up to 16 MiB).
 */
export function adminBodyLimitBytes(maxContentBytes: number): number {
  return Math.max(MIN_ADMIN_BODY_BYTES, 2 * maxContentBytes + 64 * 1024)
}

/**
 * The server's own cap (maxRequestBodySize), a backstop under the app's checks: the slack lets
 * the app answer its JSON 413 up to there.
 */
export function serverBodyLimitBytes(maxContentBytes: number): number {
  return adminBodyLimitBytes(maxContentBytes) + 64 * 1024
}

/**
 * `shared`: the edge guard and error mapper, when /peer/sync is also served outside the app
 * (pod-fetch.ts): one guard counts every request.
 */
export function createApp(deps: AppDeps, shared: { guard?: EdgeGuard; answerError?: (err: Error, path: string) => ErrorAnswer } = {}) {
  const app = new Hono()
  const answerError = shared.answerError ?? createErrorAnswer(deps.log, 'pod', (err) => asDiskFull(err, deps.homeDir))
  app.onError(onErrorWith(answerError))
  app.notFound(notFound)
  app.use((shared.guard ?? new EdgeGuard({ onCapReached: deps.onEdgeCap, connectionIdleMs: deps.connectionIdleMs })).middleware())

  app.use(async function timeRequest(c, next) {
    const started = performance.now()
    await next()
    // After next(), routeIndex points at the handler that answered: its pattern (`/memories/:id`),
    // never the raw path, so label cardinality stays bounded.
    deps.observeRequest(routePath(c) || 'unmatched', c.res.status, performance.now() - started)
  })
  app.use(corsMiddleware(() => deps.allowedOrigins()))

  const maxBodyBytes = adminBodyLimitBytes(deps.maxContentBytes)
  // One chain per app, so the type of createApp carries every route (AppType, the CLI's hc client).
  const admin = new Hono()
    .use(adminAuth((token) => deps.identity.checkAdminToken(token)))
    // Only after the token: an unauthenticated caller must cost us no body at all (contract Part
    // 1b). /peer/sync reads its own.
    .use(readBodyFirst(maxBodyBytes))
    .route('/', memoryRoutes(deps))
    .route('/', peerAdminRoutes(deps))
    .route('/', advertiseAdminRoutes(deps))
    .route('/', peerHeadersAdminRoutes(deps))
    .route(
      '/',
      mcpRoutes({
        store: deps.store,
        peersOverview: () => deps.peersOverview(),
        publicPrefixes: deps.publicPrefixes,
        maxContentBytes: deps.maxContentBytes,
        version: deps.version,
        // Over HTTP the pod cannot see the agent's working directory; the resource template names one.
        project: () => null,
      }),
    )
    .route('/', eventRoutes(deps))
    .get('/status', (c) =>
      c.json({
        pod_id: deps.identity.podId,
        name: deps.identity.name,
        version: deps.version,
        url: deps.panelUrl(),
        peers: deps.peersSummary(),
        rendezvous: deps.rendezvousState(),
        disk: homeDisk(deps.homeDir),
      }),
    )
    .get('/metrics', (c) => c.text(deps.metrics(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }))
  return app
    .get(HEALTHZ_ROUTE, (c) => c.json({ ok: true, pod_id: deps.identity.podId, version: deps.version, protocol: PROTOCOL_VERSION }))
    .route('/', peerSyncRoutes(deps))
    .route('/', identityRoute(deps))
    .route('/', createPanelRoutes())
    .route('/', admin)
}

/** The pod's routes with their inputs and answers: `hc<AppType>` (src/cli/context.ts) derives the CLI's client from it. */
export type AppType = ReturnType<typeof createApp>

/** Free space where the home lives, for GET /status (the panel and doctor show it); null if unknown. */
function homeDisk(dir: string): DiskSpace | null {
  try {
    return diskSpace(dir)
  } catch {
    return null
  }
}
