/**
 * A scripted peer for pull tests: a real identity (temp home) serving POST /peer/sync through
 * the pod's own route (so signing and any sealing stay the real thing), with the pages coming
 * from a script instead of a store, and a hook that can hold any answer until the test, the
 * request's abort or the end of time. Counts requests, and requests the puller aborted.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Clock } from '../../src/lib/clock'
import { memoryLogger } from '../../src/lib/log'
import { openHome, type PodHome, type PodId, type PublicKey } from '../../src/identity'
import { NonceCache } from '../../src/http/nonce-cache'
import { peerSyncRoutes } from '../../src/http/peer-sync'
import type { ChangePage } from '../../src/store'

export interface ServedPeer {
  id: PodId
  key: PublicKey
  url: string
  home: PodHome
  /** /peer/sync requests received, and how many of them the caller aborted before the answer. */
  stats: { requests: number; aborted: number }
  /** Trust the puller (its side of the pairing). */
  trust(id: PodId, key: PublicKey): void
  close(): Promise<void>
  /** `await using peer = await servedPeer(…)`: closed when the scope ends. */
  [Symbol.asyncDispose](): Promise<void>
}

export interface Script {
  /** Page for request number `n` (1-based) asking from `since`. */
  page(since: string | null, n: number): ChangePage
  /** Awaited before request `n` is answered; gets the request's abort signal. */
  hold?(n: number, signal: AbortSignal): Promise<void>
}

export async function servedPeer(clock: Clock, script: Script): Promise<ServedPeer> {
  const dir = mkdtempSync(join(tmpdir(), 'mzm-served-'))
  const home = await openHome(dir, { log: memoryLogger() })
  const stats = { requests: 0, aborted: 0 }
  let n = 0
  const store = { changesSince: (since: string | null) => script.page(since, n) }
  const app = peerSyncRoutes({ identity: home.identity, peers: home.peers, store, nonces: new NonceCache(), clock })
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    idleTimeout: 0,
    fetch: async (req) => {
      const mine = ++stats.requests
      req.signal.addEventListener('abort', () => stats.aborted++, { once: true })
      await script.hold?.(mine, req.signal)
      n = mine
      return app.fetch(req)
    },
  })
  const close = async () => {
    await server.stop(true)
    rmSync(dir, { recursive: true, force: true })
  }
  return {
    id: home.identity.podId,
    key: home.identity.publicKey,
    url: `http://127.0.0.1:${server.port}`,
    home,
    stats,
    trust: (id, key) => void home.peers.add({ id, key, url: '' }),
    close,
    [Symbol.asyncDispose]: close,
  }
}

/** Resolves when `signal` aborts (a held answer that is never given). */
export function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })))
}

/** A wire entry with a fresh origin id. */
export function entry(label: string, content: string) {
  const at = '2026-05-01T00:00:00.000Z'
  return { id: crypto.randomUUID(), label, content, created_at: at, updated_at: at }
}

/** Polls `cond` every 10 ms for up to `ms` of real time (conditions, not timings). */
export async function waitFor(cond: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await cond()) return
    await Bun.sleep(10)
  }
  throw new Error(`timed out waiting for ${what}`)
}
