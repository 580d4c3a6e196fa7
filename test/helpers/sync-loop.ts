/**
 * A sync loop pulling into an in-process pod: its peers, identity and store, on an injected
 * clock, with every pull result collected. Tests override any dependency (fetch, live wait, …).
 */
import type { Clock } from '../../src/lib/clock'
import { MINUTE_MS } from '../../src/lib/clock'
import { memoryLogger } from '../../src/lib/log'
import type { Pod } from '../../src/pod'
import { createSyncLoop, type SyncLoopDeps, type SyncResult } from '../../src/sync/sync-loop'

/**
 * Not started: the caller starts it; `await using wired = syncLoopInto(…)` closes it when the scope
 * ends. No jitter, five-minute interval, a peer's first URL.
 */
export function syncLoopInto(b: Pod, clock: Clock, overrides: Partial<Omit<SyncLoopDeps, 'log'>> & { log?: ReturnType<typeof memoryLogger> } = {}) {
  const results: SyncResult[] = []
  const log = overrides.log ?? memoryLogger()
  const loop = createSyncLoop({
    selfId: b.home.identity.podId,
    listPeers: () => b.home.peers.list().peers,
    getPeer: (id) => b.home.peers.get(id),
    pairKey: (id, key) => b.home.identity.pairKey(id, key),
    store: b.store,
    clock,
    intervalMs: () => 5 * MINUTE_MS,
    resolveUrl: async (p) => p.url || null,
    random: () => 0,
    onPulled: (_, r) => results.push(r),
    ...overrides,
    log,
  })
  return { loop, results, log, [Symbol.asyncDispose]: () => loop.close() }
}
