/**
 * startPod wires one pod: the core (home → lock → store, core.ts) → HTTP app → serve
 * (src/runtime) → sync loop (→ rendezvous heartbeat). It resolves once the server listens and
 * returns { url, id, syncNow, close }. No module-level state, so a test can run many pods in one
 * process.
 */
import type { Clock } from '../lib/clock'
import type { Logger } from '../lib/log'
import type { PeerRecord, PodHome, PodId } from '../identity'
import { advertiseWarning, parseListen, suggestAdvertise, type Interfaces } from '../config'
import { hostname as osHostname, networkInterfaces } from 'node:os'
import { NonceCache } from '../http/nonce-cache'
import { UnknownCallers } from '../http/unknown-callers'
import type { Store } from '../store'
import { serverBodyLimitBytes } from '../http/app'
import { createPodFetch } from '../http/pod-fetch'
import type { AppDeps } from '../http/deps'
import { UNAUTHENTICATED_PER_ADDRESS } from '../http/edge-guard'
import { createSyncLoop, type SyncResult } from '../sync/sync-loop'
import { defaultAdvertiseUrl } from '../sync/peer-locator'
import { VERSION } from '../lib/version'
import { PodError } from '../lib/errors'
import { localHttpUrl } from '../lib/http-url'
import { advertiseControl, peerHeadersFor, peerTester, servedRecorder, unknownCallerNoter } from './app-callbacks'
import { openPodCore } from './core'
import { createPodMetrics } from './metrics'
import { serve, type ConnInfo } from '../runtime'
import { serveAdminSocket } from './admin-socket'
import { noteFirstBoot } from './first-boot'
import { resolve } from 'node:path'
import { createPeersFeed, createPodEvents, createWaiterRegistry } from '../live'
import { LIVE_WAIT_S } from '../sync/constants'
import { checkFdLimit } from '../lib/fd-limit'
import { connectionsWithin, createFdPressureLog, watchFdUse } from '../lib/fd-pressure'

export interface StartPodOptions {
  home: string
  /** Sync local writes before they are acknowledged (default true); false: MAZEMAKER_UNSAFE_NO_FSYNC. */
  durable?: boolean
  /** 0 = any free port. Default: pod.toml `listen`. */
  port?: number
  host?: string
  clock?: Clock
  log?: Logger
  /** Overrides pod.toml `sync_interval` (MAZEMAKER_SYNC_INTERVAL). */
  syncIntervalSeconds?: number
  /** Start the pull loop (default true); tests may drive syncNow() by hand. */
  autoSync?: boolean
  /**
   * Register with the rendezvous (default true when pod.toml has one). A CLI command's own
   * short-lived pod passes false: it must not advertise its ephemeral port as this pod's address.
   */
  heartbeat?: boolean
  fetch?: typeof fetch
  /** Time to response headers per URL attempt when pulling (default CONNECT_TIMEOUT_MS). */
  connectTimeoutMs?: number
  /** Long-poll wait for live peers, seconds (default LIVE_WAIT_S; 0 = no live pulls). */
  liveWaitSeconds?: number
}

/** Idle limit of the TCP server: a held long-poll sends nothing for up to its wait (50 s). */
const SERVER_IDLE_TIMEOUT_S = LIVE_WAIT_S + 20

export interface Pod {
  url: string
  /** `<home>/pod.sock` where the admin app also listens, or null if it could not be made. */
  socketPath: string | null
  id: string
  home: PodHome
  store: Store
  syncNow(peer?: string): Promise<SyncResult[]>
  /** Long-polls from peers held right now (the hub's load; tests wait on it). */
  heldPolls(): number
  /** The app itself, no socket: `request('/memories', init)` (tests drive the local API in process). */
  request(path: string, init?: RequestInit): Promise<Response>
  close(): Promise<void>
}

export async function startPod(opts: StartPodOptions): Promise<Pod> {
  const firstBoot = noteFirstBoot(resolve(opts.home))
  const core = await openPodCore({ home: opts.home, clock: opts.clock, log: opts.log, lock: true, fetch: opts.fetch, durable: opts.durable })
  const { home, log, clock, store, indexer, locator, scopes } = core
  const { config, identity, peers, paths } = home
  const cleanup: (() => unknown)[] = [() => core.close()]
  try {
    const intervalMs = (opts.syncIntervalSeconds ?? config.sync_interval) * 1000
    const listPeers = (): PeerRecord[] => peers.list().peers

    const unknownCallers = new UnknownCallers()
    /** Our rendezvous heartbeat, once started (after the server listens). */
    let heartbeat: { stop(): Promise<void>; beat(): Promise<void> } | null = null
    // Live: commits wake held long-polls and feed the event stream (panel, `mazemaker watch`).
    // The stream bridges to the store only while a client is connected (copies cost no journal row otherwise).
    const events = createPodEvents({ connect: (publish) => store.onCommit((changes) => publish({ type: 'commit', changes }), { copies: true }) })
    const waiters = createWaiterRegistry({ clock, onCommit: (l) => store.onCommit(l), scopes })

    // Callers that became peers since (their handshake was pasted) drop off the list.
    // `loop` is made below; the overview is first asked for once the pod serves.
    const diskFull = (id: PodId) => loop.diskFull(id)
    const callers = () => unknownCallers.list((id) => peers.trusted(id) !== null)
    const overview = () => ({ ...core.peersOverview(diskFull), unknown_callers: callers() })
    // The panel's peer list: whole on connect, then only the peers that changed (built once for every panel).
    const peersFeed = createPeersFeed({ overview, peers: (ids) => ({ ...core.peerViews(ids, diskFull), unknown_callers: callers() }) }, clock)
    const metrics = createPodMetrics({
      peers: () => overview().peers,
      consecutiveFailures: () => new Map([...store.peerStates()].map(([id, s]) => [id, s.consecutive_failures])),
      stats: () => store.stats(),
      heartbeat: () => locator.heartbeatState(),
      heldPolls: () => waiters.held,
    })

    const headersFor = peerHeadersFor(home, log)
    const loop = createSyncLoop({
      selfId: identity.podId,
      listPeers,
      getPeer: (id) => peers.get(id),
      pairKey: (id, key) => identity.pairKey(id, key),
      store,
      clock,
      log,
      intervalMs: () => intervalMs,
      resolveUrl: (peer) => locator.resolve(peer),
      pendingCause: (peer) => core.pendingHint(peer),
      peerHeaders: (id, url) => headersFor(id, url).headers,
      connectTimeoutMs: opts.connectTimeoutMs,
      confirmUrl: (peer, url) => locator.confirm(peer, url),
      fetch: opts.fetch,
      liveWaitSeconds: opts.liveWaitSeconds,
      onPulled: (id, result) => {
        metrics.onPulled(id, result)
        if (result.stored > 0) indexer.kick()
        peersFeed.changed(id)
      },
    })
    cleanup.unshift(() => loop.close())

    // Known once the TCP server listens; /status hands it to the CLI (`mazemaker open`).
    let url = ''
    /**
     * Where peers would reach this pod: the address it listens on, except for a CLI command's own
     * short-lived pod (no heartbeat, an ephemeral port), which speaks for the pod pod.toml describes.
     */
    let listening = () => parseListen(config.listen)
    // Survives restarts: a request captured before one is still a replay after it.
    const nonces = NonceCache.open(paths.nonces, clock.now())
    cleanup.unshift(() => nonces.close())
    const deps: AppDeps = {
      identity,
      peers,
      store,
      homeDir: paths.root,
      log,
      clock,
      version: VERSION,
      publicPrefixes: config.public_prefixes,
      maxContentBytes: config.max_content_bytes,
      nonces,
      peersOverview: overview,
      peerView: (id) => core.peerViews([id], diskFull).views.get(id) ?? null,
      peerStatusHint: (id) => core.peerStatusHint(id, diskFull),
      peersSummary: () => core.peersSummary(diskFull),
      syncNow: (peer) => loop.syncNow(peer),
      peerChanged: (id) => {
        loop.peerChanged(id)
        peersFeed.changed(id)
      },
      peerShownChanged: (id) => peersFeed.changed(id),
      defaultPeerUrl: (id) => (config.rendezvous ? `mzm-rendezvous://${id}` : ''),
      allowedOrigins: () => config.allowed_origins,
      onServed: servedRecorder(store, metrics),
      observeRequest: (route, status, ms) => metrics.observeRequest(route, status, ms),
      metrics: () => metrics.render(),
      rendezvousState: () => locator.heartbeatState(),
      panelUrl: () => url,
      peerHeaders: home.headers,
      testPeer: peerTester({ home, locator, clock, headersFor, fetch: opts.fetch, connectTimeoutMs: opts.connectTimeoutMs }),
      onUnknownCaller: unknownCallerNoter(unknownCallers, clock, log),
      advertise: { ...advertiseControl(home, () => heartbeat), suggest: () => advertiseSuggestions(identity.advertise(), listening()) },
      waiters,
      events,
      peersFeed,
      onEdgeCap: (address) =>
        log.warn({
          op: 'edge',
          err: 'rate_limited',
          address,
          msg: `${address} holds ${UNAUTHENTICATED_PER_ADDRESS} requests that have not authenticated; more are answered 429 until some finish (a proxy or tunnel shows as its own address)`,
        }),
      connectionIdleMs: SERVER_IDLE_TIMEOUT_S * 1000,
    }
    const served = createPodFetch(deps)
    const listenAt = parseListen(config.listen)
    const hostname = opts.host ?? listenAt.host
    const port = opts.port ?? listenAt.port
    const serveOpts = {
      // The edge guard reads the client's address in the connection info (Hono's c.env in the app).
      fetch: (req: Request, conn: ConnInfo) => served.fetch(req, conn),
      maxRequestBodySize: serverBodyLimitBytes(config.max_content_bytes),
      idleTimeoutSeconds: SERVER_IDLE_TIMEOUT_S,
      onError: (err: Error) => {
        log.error({ op: 'http', err: 'internal', msg: err.message })
        return Response.json({ error: 'internal', message: 'internal error; see the pod log' }, { status: 500 })
      },
    }
    const fdLimit = checkFdLimit(log)
    const fdPressure = createFdPressureLog(log, fdLimit, clock)
    const server = await listen(hostname, port, () =>
      serve({
        hostname,
        port,
        ...serveOpts,
        unauthenticatedPerAddress: UNAUTHENTICATED_PER_ADDRESS,
        maxConnections: connectionsWithin(fdLimit),
        onOverload: (o) => (o.reason === 'connections' ? fdPressure.connectionsFull(o.open) : deps.onEdgeCap?.(o.address)),
      }),
    )
    cleanup.unshift(() => server.stop())
    // The CLI's way in (any port, token never sent over TCP); made while we hold the home lock.
    const socket = await serveAdminSocket({ path: paths.socket, log, ...serveOpts })
    if (socket) cleanup.unshift(() => socket.close())
    url = localHttpUrl(server.hostname, server.port)
    if (opts.heartbeat !== false) listening = () => ({ host: server.hostname, port: server.port })
    log.info({ op: 'listen', url, msg: `pod ${identity.name} ready` })

    const fdWatch = watchFdUse(fdLimit, (open) => fdPressure.filesNearLimit(open))
    cleanup.unshift(() => fdWatch.stop())
    if (opts.autoSync !== false) loop.start()
    // Memories made public at open (a prefix added) wait for the credential scan before peers see them.
    const settling = new AbortController()
    // Then, once, memories no scan has read yet (written before the scan existed).
    const settled = store
      .settleUnscanned(settling.signal)
      .then(() => store.scanBackfill(settling.signal))
      .catch((err) => log.warn({ op: 'secret_scan', err: 'scan_failed', msg: err instanceof Error ? err.message : String(err) }))
    cleanup.unshift(() => {
      settling.abort()
      return settled
    })
    heartbeat =
      opts.heartbeat === false
        ? null
        : locator.startHeartbeat({ identity, advertiseUrl: () => identity.advertise()[0] ?? defaultAdvertiseUrl(server.hostname, server.port) })
    cleanup.unshift(() => heartbeat?.stop())
    // First on close, before the servers stop (they wait for requests in flight): held
    // long-polls answer at once and event streams end.
    cleanup.unshift(() => {
      waiters.close()
      peersFeed.close()
      events.publish({ type: 'close' })
    })

    let closing: Promise<void> | null = null
    return {
      url,
      socketPath: socket?.path ?? null,
      id: identity.podId,
      home,
      store,
      syncNow: (peer) => loop.syncNow(peer),
      heldPolls: () => waiters.held,
      request: (path, init) => served.request(path, init),
      close: () => (closing ??= runCleanup(cleanup, log)),
    }
  } catch (err) {
    // The core last, and a failed first boot leaves nothing: removed while we still hold the lock
    // (no other pod is in this home), after the store is closed.
    await runCleanup([...cleanup.slice(0, -1), () => core.close(() => firstBoot.undo())], log)
    throw err
  }
}

/** Reverse of startup: loop (awaiting the tick in flight) → server (finishing in-flight requests) → store → lock. */
async function runCleanup(steps: (() => unknown)[], log: Logger): Promise<void> {
  for (const step of steps) {
    try {
      await step()
    } catch (err) {
      log.warn({ op: 'close', err: 'close_failed', msg: err instanceof Error ? err.message : String(err) })
    }
  }
}

/** serve(), with a taken port reported as what to do rather than a stack trace. */
async function listen<T>(host: string, port: number, serve: () => Promise<T>): Promise<T> {
  try {
    return await serve()
  } catch (err) {
    if ((err as { code?: string }).code === 'EADDRINUSE') {
      throw new PodError('port_in_use', `${host}:${port} is already in use (another pod or program); choose another with --port or \`listen\` in pod.toml`, {
        cause: err,
      })
    }
    throw err
  }
}

/** `advertise suggest` for the address the pod listens on, and the warning when it advertises nothing. */
function advertiseSuggestions(advertised: readonly string[], at: { host: string; port: number }) {
  const suggestions = suggestAdvertise({ listenHost: at.host, port: at.port, interfaces: networkInterfaces() as Interfaces, hostname: osHostname() })
  return { listen: `${at.host}:${at.port}`, suggestions, warning: advertiseWarning({ advertise: advertised, listenHost: at.host, port: at.port, suggestions }) }
}
