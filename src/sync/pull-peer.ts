/**
 * Pulls everything new from one peer: pages until `more` is false, each page applied in one
 * transaction with its cursor (so a crash mid-pull loses and duplicates nothing).
 */
import { PeerError } from '../lib/errors'
import type { PairKey, PodId, PublicKey } from '../identity'
import type { Store, WireEntry } from '../store'
import { MAX_PAGES_PER_PULL, PAGE_LIMIT } from './constants'
import { preparePull } from './peer-client'

export type PullStore = Pick<Store, 'applyRemote' | 'peerState' | 'resetScope'>

export interface PullTarget {
  id: PodId
  key: PublicKey
  baseUrl: string
  scope: string[]
}

export interface PullContext {
  selfId: PodId
  store: PullStore
  pairKey(peerId: PodId, key: PublicKey): Promise<PairKey>
  now(): number
  fetch?: typeof fetch
  pageLimit?: number
  signal?: AbortSignal
}

export interface PullTotals {
  fetched: number
  stored: number
  deleted: number
  dropped: number
  pages: number
}

export async function pullPeer(ctx: PullContext, target: PullTarget): Promise<PullTotals> {
  const totals: PullTotals = { fetched: 0, stored: 0, deleted: 0, pages: 0, dropped: 0 }
  // A changed scope drops the copies that no longer match and restarts from the beginning.
  totals.dropped = ctx.store.resetScope(target.id, target.scope)
  const pairKey = await ctx.pairKey(target.id, target.key)
  const request = (since: string | null) =>
    preparePull({
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
  let since = ctx.store.peerState(target.id).cursor
  let inflight = (await request(since))()
  for (;;) {
    const page = await inflight
    if (page.more && page.cursor === since) throw new PeerError('bad_response', 'peer said more=true without moving its cursor')
    const last = !page.more || totals.pages + 1 >= MAX_PAGES_PER_PULL // the rest comes next tick
    // Put the request for the next page on the wire before storing this one: the peer serves
    // it while we write. If storing fails, that answer is simply dropped.
    const next = last ? null : (await request(page.cursor))()
    next?.catch(() => undefined)
    // Vault ciphertext is never served; a peer that sends it anyway gets it dropped, not stored.
    const entries = page.memories.filter((e) => 'deleted' in e || !e.content.startsWith('AES:')) as WireEntry[]
    const applied = ctx.store.applyRemote(target.id, entries, page.cursor)
    totals.fetched += page.memories.length
    totals.stored += applied.stored
    totals.deleted += applied.deleted
    totals.pages++
    if (!next) return totals
    since = page.cursor
    inflight = next
  }
}
