/**
 * Pulls everything new from one peer: pages until `more` is false, each page applied in one
 * transaction with its cursor (so a crash mid-pull loses and duplicates nothing).
 */
import { PeerError } from '../lib/errors'
import type { PodId, PublicKey } from '../identity'
import type { Store, WireEntry } from '../store'
import { MAX_PAGES_PER_PULL, PAGE_LIMIT } from './constants'
import { pullPage } from './peer-client'

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
  pairKey(peerId: PodId, key: PublicKey): Promise<CryptoKey>
  now(): number
  fetch?: typeof fetch
  pageLimit?: number
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
  let since = ctx.store.peerState(target.id).cursor
  for (;;) {
    const page = await pullPage({
      baseUrl: target.baseUrl,
      pairKey,
      selfId: ctx.selfId,
      peerId: target.id,
      since,
      scope: target.scope,
      limit: ctx.pageLimit ?? PAGE_LIMIT,
      nowMs: ctx.now(),
      fetch: ctx.fetch,
    })
    // Vault ciphertext is never served; a peer that sends it anyway gets it dropped, not stored.
    const entries = page.memories.filter((e) => 'deleted' in e || !e.content.startsWith('AES:')) as WireEntry[]
    const applied = ctx.store.applyRemote(target.id, entries, page.cursor)
    totals.fetched += page.memories.length
    totals.stored += applied.stored
    totals.deleted += applied.deleted
    totals.pages++
    if (!page.more) return totals
    if (page.cursor === since) throw new PeerError('bad_response', 'peer said more=true without moving its cursor')
    if (totals.pages >= MAX_PAGES_PER_PULL) return totals // the rest comes next tick
    since = page.cursor
  }
}
