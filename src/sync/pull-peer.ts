/**
 * Pulls everything new from one peer: pages until `more` is false, each page applied in one
 * transaction with its cursor (so a crash mid-pull loses and duplicates nothing).
 *
 * A pull never outlives the relationship: before each page is asked for, and again right
 * before it is stored (in the same synchronous step as the store, so no await can slip a
 * `peer remove --purge` in between), `current()` must say the peer is still one we pull from.
 * The caller's `signal` (shutdown, removal, pause, time budget) aborts the request in flight.
 */
import { PeerError, PodError } from '../lib/errors'
import type { StopReason } from '../lib/codes'
import type { PairKey, PodId, PublicKey } from '../identity'
import { shortId } from '../identity'
import type { Store } from '../store'
import { CONNECT_TIMEOUT_MS, PAGE_LIMIT } from './constants'
import { preparePull } from './peer-client'
import type { SyncResponse } from '../protocol'
import { pageStep } from './scheduler'
import { fetchOnMainThread, letIoRun } from '../runtime'
import { type FetchThread, type OffThreadFetch, startOffThreadFetch } from './off-thread-fetch'

export type PullStore = Pick<Store, 'applyRemote' | 'peerState' | 'resetScope' | 'beginBulk'>

export interface PullTarget {
  id: PodId
  key: PublicKey
  /** Base URLs in the order to try them; the first page settles which one the pull uses. */
  baseUrls: readonly string[]
  scope: string[]
  /** Per-peer secret headers for a request to `url` ({} where they may not go). */
  headers?(url: string): Record<string, string>
}

/** Why a pull stopped early on our side: the relationship changed (`removed`, `paused`, …). */
export class PullStopped extends PodError {
  constructor(
    override readonly code: StopReason,
    message: string,
  ) {
    super(code, message)
  }
}

export interface PullContext {
  selfId: PodId
  store: PullStore
  pairKey(peerId: PodId, key: PublicKey): Promise<PairKey>
  now(): number
  fetch?: typeof fetch
  pageLimit?: number
  /** Long-poll: seconds the peer may hold a request whose answer would be empty (0 = none). */
  wait?: number
  signal?: AbortSignal
  /** null while we still pull from this peer, else why not (removed, paused, revoked, …). */
  current?(): StopReason | null
  /** Time to response headers per URL attempt (default CONNECT_TIMEOUT_MS). */
  connectTimeoutMs?: number
  /** Told about every first-page attempt: `error` is null when that URL answered and verified. */
  onAttempt?(url: string, error: PodError | null, ms: number): void
  /** Told after each page is stored: its entries, and whether more pages follow. */
  onPage?(entries: number, more: boolean): void
  /** The fetch thread shared with the other pulls running (default: one of this pull's own). */
  fetchThread?: FetchThread
}

export interface PullTotals {
  fetched: number
  stored: number
  /** Copies deleted (tombstones, and copies a narrowed scope no longer covers). */
  deleted: number
  /** Copies that broke our rules (label, size, vault ciphertext): counted, never stored. */
  dropped: number
  /** Deletes and overwrites held as a mass change (0 = none). */
  held: number
  pages: number
  /** The base URL the pull used (the first that answered and verified). */
  url: string
  /** The last page said `more: false` (not stopped by the page cap): we are up to date. */
  caughtUp: boolean
  /** The peer's cursor moved during this pull (it had something new for us). */
  moved: boolean
}

export async function pullPeer(ctx: PullContext, target: PullTarget): Promise<PullTotals> {
  const totals: PullTotals = { fetched: 0, stored: 0, deleted: 0, dropped: 0, held: 0, pages: 0, url: '', caughtUp: false, moved: false }
  if (target.baseUrls.length === 0) throw new PeerError('handshake_pending', `no URL for ${shortId(target.id)} yet`)
  const check = () => {
    const why = ctx.current?.() ?? null
    if (why) throw new PullStopped(why, `pull from ${shortId(target.id)} stopped: ${why}; nothing more stored`)
    if (ctx.signal?.aborted) throw new PullStopped('stopped', `pull from ${shortId(target.id)} aborted; nothing more stored`)
  }
  check()
  // A changed scope drops the copies that no longer match and restarts from the beginning.
  totals.deleted = ctx.store.resetScope(target.id, target.scope)
  const pairKey = await ctx.pairKey(target.id, target.key)
  // Pages after the first come from a thread of their own where fetch runs on the main thread
  // (off-thread-fetch.ts): their requests leave, and their answers arrive, while a page is stored.
  let offThread: OffThreadFetch | undefined
  const request = async (since: string | null, baseUrl = totals.url) => {
    check()
    return preparePull({
      baseUrl,
      pairKey,
      selfId: ctx.selfId,
      peerId: target.id,
      since,
      scope: target.scope,
      limit: ctx.pageLimit ?? PAGE_LIMIT,
      wait: ctx.wait,
      nowMs: ctx.now(),
      fetch: ctx.fetch,
      signal: ctx.signal,
      headers: target.headers?.(baseUrl),
      connectTimeoutMs: ctx.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
      offThread,
    })
  }
  let since = ctx.store.peerState(target.id).cursor
  const start = since
  const offThreadWanted = fetchOnMainThread && !ctx.fetch
  const startThread = () => (ctx.fetchThread ? ctx.fetchThread.acquire() : startOffThreadFetch())
  // A pull of many pages starts its fetch thread once the second page's request has left: starting
  // one holds this thread ~15 ms under Deno (a request not yet on the wire would wait as long),
  // and the thread is ready 50-80 ms later (its modules load). Until it says so, pages come
  // through the main thread's fetch, as the first did; the thread takes over from then on.
  let thread: OffThreadFetch | undefined
  // More than one page: the store puts its upkeep off until the pull ends (bulk-writes.ts).
  let endBulk: (() => void) | undefined
  try {
    const first = await firstPage(target.baseUrls, (url) => request(since, url), ctx)
    totals.url = first.url
    let inflight = Promise.resolve(first.page)
    for (;;) {
      const page = await inflight
      const step = pageStep(page, since, totals.pages + 1)
      if (step === 'stuck') throw new PeerError('bad_response', 'peer said more=true without moving its cursor')
      // Put the request for the next page on the wire before storing this one: the peer serves
      // it while we write. If storing fails, that answer is simply dropped.
      if (step === 'next') endBulk ??= ctx.store.beginBulk()
      if (!offThread && thread?.ready()) offThread = thread
      const next = step === 'next' ? (await request(page.cursor))() : null
      next?.catch(() => undefined)
      if (next && !offThread) {
        await letIoRun() // under Deno the request only leaves when the event loop turns
        if (offThreadWanted) thread ??= startThread()
      }
      check() // same synchronous step as the write below
      // The last page lets the mass-change guard judge what the pull staged (mass-change.ts).
      const applied = ctx.store.applyRemote(target.id, page.memories, page.cursor, { final: step === 'done' })
      totals.fetched += page.memories.length
      totals.stored += applied.stored
      totals.deleted += applied.deleted
      totals.dropped += applied.dropped
      totals.held = applied.held
      totals.pages++
      ctx.onPage?.(page.memories.length, next !== null)
      if (!next) {
        totals.caughtUp = step === 'done'
        totals.moved = page.cursor !== start
        return totals
      }
      since = page.cursor
      inflight = next
    }
  } finally {
    thread?.close()
    endBulk?.()
  }
}

/**
 * The first page, from the first URL that answers and verifies, trying them in order. A URL
 * that fails for any reason (no route, black hole, a proxy's 502, a pod that is not this peer)
 * passes the turn to the next; when all fail, the most telling error is thrown (what the peer
 * itself said beats a transport failure) with every URL's outcome in the message.
 */
async function firstPage(
  urls: readonly string[],
  send: (url: string) => Promise<() => Promise<SyncResponse>>,
  ctx: PullContext,
): Promise<{ url: string; page: SyncResponse }> {
  const failures: { url: string; err: PodError }[] = []
  for (const url of urls) {
    const started = performance.now()
    try {
      const page = await (await send(url))()
      ctx.onAttempt?.(url, null, Math.round(performance.now() - started))
      return { url, page }
    } catch (err) {
      // Our own stop (removal, shutdown, budget) ends the pull, not just this URL.
      if (err instanceof PullStopped || ctx.signal?.aborted || !(err instanceof PodError)) throw err
      ctx.onAttempt?.(url, err, Math.round(performance.now() - started))
      failures.push({ url, err })
    }
  }
  if (failures.length === 1) throw failures[0]!.err
  const worst = failures.reduce((a, b) => (errorRank(b.err.code) > errorRank(a.err.code) ? b : a))
  const all = failures.map((f) => `${f.url}: ${f.err.code}`).join('; ')
  throw new PeerError(worst.err.code, `tried ${failures.length} URLs (${all}); ${worst.err.message}`, { cause: worst.err })
}

/** How much an error says about the peer itself: its own refusal > a bad answer > an HTTP status > no answer. */
function errorRank(code: string): number {
  if (code === 'unauthorized' || code === 'clock_skew' || code === 'replay' || code === 'protocol_unsupported') return 3
  if (code === 'bad_signature' || code === 'bad_response' || code === 'too_large') return 2
  if (code.startsWith('http_')) return 1
  return 0
}
