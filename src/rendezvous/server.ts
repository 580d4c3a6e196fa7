/**
 * `mazemaker rendezvous`: its own home (0700) holding rendezvous.db and rendezvous.key (its
 * X25519 key pair, created on first boot, 0600), one HTTP server, and a close() that stops the
 * server (letting requests in flight finish) and then the database.
 */
import { mkdirSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { systemClock, type Clock } from '../lib/clock'
import type { Logger } from '../lib/log'
import { createRendezvousApp } from './app'
import { loadOrCreateX25519KeyPair } from '../identity'
import { DEFAULT_RENDEZVOUS_PORT, RENDEZVOUS_KEY_FILE } from './constants'
import { openRendezvousStore } from './store'
import { localHttpUrl } from '../lib/http-url'
import { serve, type Server } from '../runtime'
import { UNAUTHENTICATED_PER_ADDRESS } from '../http/edge-guard'

export const RENDEZVOUS_DB_FILE = 'rendezvous.db'
/** Bun refuses larger bodies before Hono sees them; the app's own limit (4 KiB) gives the JSON 413. */
const MAX_SERVER_BODY_BYTES = 64 * 1024

export interface StartRendezvousOptions {
  home: string
  /** Default 8780; 0 = any free port. */
  port?: number
  /** Default 0.0.0.0: a rendezvous exists to be reached from other machines, and holds nothing private. */
  host?: string
  clock?: Clock
  log: Logger
}

export interface RendezvousService {
  /** A URL that reaches the service from this machine. */
  url: string
  close(): Promise<void>
}

/** `--home`, else `~/.mazemaker-rendezvous` (from $HOME when set). */
export function resolveRendezvousHome(flag?: string, env: Record<string, string | undefined> = process.env): string {
  if (flag) return resolve(flag)
  return join(env.HOME || homedir(), '.mazemaker-rendezvous')
}

export async function startRendezvous(opts: StartRendezvousOptions): Promise<RendezvousService> {
  const clock = opts.clock ?? systemClock
  const log = opts.log
  mkdirSync(opts.home, { recursive: true, mode: 0o700 })
  const keyPath = join(opts.home, RENDEZVOUS_KEY_FILE)
  // A lost key is not fatal (pods fetch the new one when their proof fails), but say so.
  const key = await loadOrCreateX25519KeyPair(
    keyPath,
    RENDEZVOUS_KEY_FILE,
    'restore it from backup, or move it away to make a new one (pods fetch the new key by themselves)',
  )
  if (key.created) log.info({ op: 'init', path: keyPath, msg: 'new rendezvous key pair' })
  const db = openRendezvousStore(join(opts.home, RENDEZVOUS_DB_FILE), clock)
  let server: Server
  try {
    const app = createRendezvousApp({ db, key, clock, log, onEdgeCap: (address) => edgeCapReached(log, address) })
    server = await serve({
      hostname: opts.host ?? '0.0.0.0',
      port: opts.port ?? DEFAULT_RENDEZVOUS_PORT,
      // The connection info becomes Hono's c.env: defaultGetIp reads the client address there.
      fetch: (req, conn) => app.fetch(req, conn),
      maxRequestBodySize: MAX_SERVER_BODY_BYTES,
      // Where the runtime sees connections (Deno), those that never present a token are capped too.
      unauthenticatedPerAddress: UNAUTHENTICATED_PER_ADDRESS,
      onOverload: (o) => (o.reason === 'address' ? edgeCapReached(log, o.address) : undefined),
      onError(err) {
        log.error({ op: 'http', err: 'internal', msg: err.message })
        return Response.json({ error: 'internal', message: 'internal error; see the rendezvous log' }, { status: 500 })
      },
    })
  } catch (err) {
    db.close()
    throw err
  }
  const url = localHttpUrl(server.hostname, server.port)
  log.info({ op: 'listen', url, count: db.count(), msg: `rendezvous ready on ${server.hostname}:${server.port}` })

  let closing: Promise<void> | null = null
  return {
    url,
    close: () =>
      (closing ??= (async () => {
        await server.stop()
        db.close()
        log.info({ op: 'shutdown', msg: 'rendezvous stopped' })
      })()),
  }
}

function edgeCapReached(log: Logger, address: string): void {
  log.warn({
    op: 'edge',
    err: 'rate_limited',
    address,
    msg: `${address} holds ${UNAUTHENTICATED_PER_ADDRESS} requests without a token; more are answered 429 until some finish (a proxy shows as its own address)`,
  })
}
