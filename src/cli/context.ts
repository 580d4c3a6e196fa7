/**
 * What every CLI command shares: global flags (--home, --port, --host, accepted anywhere on the
 * line), the home directory, and a client for the running pod (over the home's Unix socket) that
 * authenticates with the admin token it reads itself. The client's routes and answer types come
 * from the pod's app itself (`hc<AppType>`), so the CLI never restates a response shape.
 */
import { readFileSync } from 'node:fs'
import { hc, type ClientResponse } from 'hono/client'
import type { AppType } from '../http/app'
import type { Answer, PodApi } from '../http/answers'
import { homePaths, resolveHome } from '../identity'
import { loadPodConfig, parseListen } from '../config'
import { isErrorCode } from '../lib/codes'
import { PodError } from '../lib/errors'
import { HEALTHZ_ROUTE } from '../protocol'
import { localHttpUrl } from '../lib/http-url'
import { readBodyText } from '../lib/read-body'
import { unixFetch } from '../runtime'

/** Largest answer the CLI reads from the pod (a full recall page is a few MiB); counted as it arrives. */
export const MAX_ANSWER_BYTES = 64 * 1024 * 1024
export const MAX_HEALTHZ_BYTES = 4 * 1024

export interface GlobalFlags {
  home?: string
  port?: number
  host?: string
}

/** Removes `--home X`, `--home=X`, `--port`, `--host` from anywhere in argv (citty only sees them before the command). */
export function extractGlobalFlags(argv: string[]): { flags: GlobalFlags; rest: string[] } {
  const flags: GlobalFlags = {}
  const rest: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const m = /^--(home|port|host)(?:=(.*))?$/.exec(arg)
    if (!m) {
      rest.push(arg)
      continue
    }
    const value = m[2] ?? argv[++i]
    if (value === undefined) throw new PodError('usage', `--${m[1]} needs a value`)
    if (m[1] === 'port') {
      if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new PodError('usage', `--port must be 0..65535, got ${value}`)
      flags.port = Number(value)
    } else if (m[1] === 'home') flags.home = value
    else flags.host = value
  }
  return { flags, rest }
}

export function homeRoot(flags: GlobalFlags): string {
  return resolveHome({ flag: flags.home, env: process.env })
}

/** Port from --port, else MAZEMAKER_PORT, else pod.toml. */
export function portOverride(flags: GlobalFlags): number | undefined {
  if (flags.port !== undefined) return flags.port
  const env = process.env.MAZEMAKER_PORT
  if (env === undefined || env === '') return undefined
  if (!/^\d{1,5}$/.test(env) || Number(env) > 65535) throw new PodError('usage', `MAZEMAKER_PORT must be 0..65535, got ${env}`)
  return Number(env)
}

export interface PodClient {
  /** What the client talks to: `unix:<home>/pod.sock`, or an in-process pod's own http URL. */
  target: string
  /** True when a pod with our id answers /healthz there. */
  running(timeoutMs?: number): Promise<boolean>
  /** The pod's local API, typed from its routes: `await answer(pod.api.memories.$post({ json }))`. */
  api: PodApi
  /** The same route with the admin token, answer unparsed (for MCP, whose JSON-RPC `call` does not fit). */
  request(path: string, init: RequestInit & { headers?: Record<string, string> }): Promise<Response>
}

/**
 * A client for the running pod of this home, over its Unix socket `<home>/pod.sock` (0600 in
 * the 0700 home, so only this user reaches it). Never a TCP port: whatever listens on pod.toml's
 * port while our pod is down (another local user, say) must not receive the admin token.
 */
export function podClient(flags: GlobalFlags): PodClient {
  const paths = homePaths(homeRoot(flags))
  // The client's own connection to the socket (the runtime adapter's; only path and query travel).
  const overSocket = unixFetch(paths.socket)
  return createClient(`unix:${paths.socket}`, paths, (path, init) => overSocket(path, init))
}

/** A client for a pod this process started itself, at its own http URL (no socket available). */
export function inProcessClient(flags: GlobalFlags, url: string): PodClient {
  const paths = homePaths(homeRoot(flags))
  return createClient(url, paths, (path, init) => fetch(`${url}${path}`, init))
}

type Transport = (path: string, init: RequestInit) => Promise<Response>

export type { Answer, PodApi } from '../http/answers'

/**
 * Awaits a typed call and returns its JSON, read with the CLI's cap (counted as it arrives); a
 * 4xx/5xx becomes a PodError with the pod's own code and message.
 */
export async function answer<R extends ClientResponse<unknown, number, string>>(pending: Promise<R>): Promise<Answer<R>> {
  const res = (await pending) as unknown as Response
  const text = await readBodyText(res, MAX_ANSWER_BYTES, { what: `${new URL(res.url || 'http://pod/').pathname} answer` })
  const json = text ? (JSON.parse(text) as Record<string, unknown>) : {}
  // A code this CLI does not know (a newer pod's) reads as its HTTP status; the message says the rest.
  if (!res.ok) throw new PodError(isErrorCode(json.error) ? json.error : `http_${res.status}`, String(json.message ?? res.statusText))
  return json as Answer<R>
}

function createClient(target: string, paths: ReturnType<typeof homePaths>, send: Transport): PodClient {
  const token = () => readFileSync(paths.adminToken, 'utf8').trim()
  // hc builds `http://pod/<route>?<query>`; only the path and query travel (the transport picks the pod).
  const api = hc<AppType>('http://pod', {
    headers: () => ({ authorization: `Bearer ${token()}` }),
    fetch: (input: RequestInfo | URL, init?: RequestInit) => {
      const url = new URL(input instanceof Request ? input.url : String(input))
      return send(url.pathname + url.search, init ?? {})
    },
  })
  return {
    target,
    api,
    async running(timeoutMs = 1500) {
      try {
        const res = await send(HEALTHZ_ROUTE, { signal: AbortSignal.timeout(timeoutMs) })
        if (!res.ok) return false
        const body = JSON.parse(await readBodyText(res, MAX_HEALTHZ_BYTES, { what: '/healthz answer' })) as { pod_id?: string }
        return body.pod_id === loadPodConfig(paths.podToml).pod_id
      } catch {
        // No socket (ENOENT), a crashed pod's leftover (ECONNREFUSED), no home yet: not running.
        return false
      }
    },
    request(path, init) {
      return send(path, { ...init, headers: { ...init.headers, authorization: `Bearer ${token()}` } })
    },
  }
}

/** Where a pod of this home would listen on TCP, from flags/env/pod.toml (0.0.0.0 is reached via 127.0.0.1). */
export function configuredUrl(flags: GlobalFlags): string {
  const config = loadPodConfig(homePaths(homeRoot(flags)).podToml)
  const listenAt = parseListen(config.listen)
  return localHttpUrl(flags.host ?? listenAt.host, portOverride(flags) ?? listenAt.port)
}
