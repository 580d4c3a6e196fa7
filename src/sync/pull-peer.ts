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
import type { PairKey, PodId, PublicKey } from '../identity'
import type { Store } from '../store'
import { PAGE_LIMIT } from './constants'
import { preparePull } from './peer-client'
import { pageStep } from './scheduler'

export type PullStore = Pick<Store, 'applyRemote' | 'peerState' | 'resetScope'>

export interface PullTarget {
  id: PodId
  key: PublicKey
  baseUrl: string
  scope: string[]
}

/** Why a pull stopped early on our side: the relationship changed (`removed`, `paused`, …). */
export class PullStopped extends PodError {}

export interface PullContext {
  selfId: PodId
  store: PullStore
  pairKey(peerId: PodId, key: PublicKey): Promise<PairKey>
  now(): number
  fetch?: typeof fetch
  pageLimit?: number
  signal?: AbortSignal
  /** null while we still pull from this peer, else why not (removed, paused, revoked, …). */
  current?(): string | null
}

export interface PullTotals {
  fetched: number
  stored: number
  /** Copies deleted (tombstones, and copies a narrowed scope no longer covers). */
  deleted: number
  /** Copies that broke our rules (label, size, vault ciphertext): counted, never stored. */
  dropped: number
  /** Deletions held as a mass delete (0 = none). */
  held: number
  pages: number
}

export async function pullPeer(ctx: PullContext, target: PullTarget): Promise<PullTotals> {
  const totals: PullTotals = { fetched: 0, stored: 0, deleted: 0, dropped: 0, held: 0, pages: 0 }
  const check = () => {
    const why = ctx.current?.() ?? null
    if (why) throw new PullStopped(why, `pull from ${target.id.slice(0, 8)} stopped: ${why}; nothing more stored`)
    if (ctx.signal?.aborted) throw new PullStopped('stopped', `pull from ${target.id.slice(0, 8)} aborted; nothing more stored`)
  }
  check()
  // A changed scope drops the copies that no longer match and restarts from the beginning.
  totals.deleted = ctx.store.resetScope(target.id, target.scope)
  const pairKey = await ctx.pairKey(target.id, target.key)
  const request = async (since: string | null) => {
    check()
    return preparePull({
      baseUrl: target.baseUrl,
      pairKey,
      selfId: ctx.selfId,
      peerId: target.id,
      since,
      scope: target.scope,
      limit: ctx.pageLimit ?? PAGE_LIMIT,
      nowMs: ctx.now(),
      fetch: ctx.fetch,
      signal: ctx.signal,
    })
  }
  let since = ctx.store.peerState(target.id).cursor
  let inflight = (await request(since))()
  for (;;) {
    const page = await inflight
    const step = pageStep(page, since, totals.pages + 1)
    if (step === 'stuck') throw new PeerError('bad_response', 'peer said more=true without moving its cursor')
    // Put the request for the next page on the wire before storing this one: the peer serves
    // it while we write. If storing fails, that answer is simply dropped.
    const next = step === 'next' ? (await request(page.cursor))() : null
    next?.catch(() => undefined)
    check() // same synchronous step as the write below
    const applied = ctx.store.applyRemote(target.id, page.memories, page.cursor, { final: step === 'done' })
    totals.fetched += page.memories.length
    totals.stored += applied.stored
    totals.deleted += applied.deleted
    totals.dropped += applied.dropped
    totals.held = applied.held
    totals.pages++
    if (!next) return totals
    since = page.cursor
    inflight = next
  }
}
