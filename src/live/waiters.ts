/**
 * Held long-polls of POST /peer/sync (contract "Long-poll: wait"): a request whose delta is
 * empty waits here until a committed change that its scope may receive, its deadline, the
 * caller going away, or shutdown.
 *
 * What wakes a waiter is decided from the store's commit notifications (commit-journal.ts):
 * only changes that moved the feed AND are (or were) gate-eligible carry a label, so a private,
 * `AES:`, `peer:` or held write wakes nobody, and a public one wakes only the scopes that match
 * the label it is served under now or was served under before (its tombstone).
 *
 * Scale: 2,000 held requests cost one small object each and ONE timer in total. Deadlines sit
 * in an indexed binary heap; a single clock.sleep is armed for the earliest one and re-armed only
 * when a new waiter's deadline is earlier (rare: most use the same wait, so deadlines arrive in
 * order). Waiters are grouped by scope, so a commit costs one glob match per distinct scope,
 * not per waiter.
 */
import type { Clock } from '../lib/clock'
import type { HeldScope, ScopeMatchers } from '../scope'
import type { CommitListener, CommittedChange } from '../store'

export type WaitOutcome = 'changed' | 'timeout' | 'aborted' | 'closed'

/**
 * When the timer fires for the earliest deadline, every waiter whose deadline is at most this
 * much later is answered with it (and at most a twentieth of its own wait early, so a 1 s wait
 * loses 50 ms at most). A hub holding 2,000 long-polls then wakes about once a second and
 * answers (and takes the re-asks of) a batch, its code and data warm, instead of one request at
 * a time with cold caches; each held request is answered at most 2 % of its wait early.
 */
const COALESCE_MS = 1000
const COALESCE_FRACTION = 1 / 20

interface Waiter {
  deadline: number
  /** The earliest it may be answered empty with another waiter's expiry: deadline minus its coalescing slack. */
  early: number
  /** Position in the heap; -1 once settled. */
  index: number
  group: ScopeGroup
  settle(outcome: WaitOutcome): void
}

interface ScopeGroup {
  key: string
  scope: HeldScope
  waiters: Set<Waiter>
}

export interface WaiterRegistry {
  /**
   * Holds until a committed change `scope` may receive (→ 'changed'), `ms` passes ('timeout'),
   * `signal` aborts ('aborted') or close() ('closed').
   */
  wait(scope: readonly string[], ms: number, signal?: AbortSignal): Promise<WaitOutcome>
  /** Requests held right now. */
  readonly held: number
  /** Answers every held request at once ('closed') and refuses to hold new ones. */
  close(): void
  /**
   * `compute()`, shared by every caller asking with the same `key` in this turn of the event
   * loop: a commit that wakes 2,000 requests at the same cursor and scope builds their page once.
   * Cleared before the next turn, so nothing outlives the commit that made it.
   */
  shared<T>(key: string, compute: () => T): T
}

export function createWaiterRegistry(deps: {
  clock: Clock
  onCommit(listener: CommitListener): () => void
  /** The pod's compiled scopes (shared with its store's feed). */
  scopes: ScopeMatchers
}): WaiterRegistry {
  const { clock } = deps
  const heap: Waiter[] = []
  const groups = new Map<string, ScopeGroup>()
  let closed = false
  /** The one armed timer: its deadline and how to disarm it. */
  let armed: { at: number; stop: AbortController } | null = null

  const unsubscribe = deps.onCommit((changes) => wake(changes))
  let memo: Map<string, unknown> | null = null

  function wake(changes: readonly CommittedChange[]): void {
    if (heap.length === 0) return
    const labels: string[] = []
    for (const c of changes) {
      if (!c.feed) continue
      if (c.feed.served !== null) labels.push(c.feed.served)
      if (c.feed.was !== null && c.feed.was !== c.feed.served) labels.push(c.feed.was)
    }
    if (labels.length === 0) return
    for (const group of [...groups.values()]) {
      if (!labels.some((l) => group.scope.matches(l))) continue
      for (const w of [...group.waiters]) w.settle('changed')
    }
  }

  // --- the indexed min-heap of deadlines ---
  function swap(i: number, j: number): void {
    const a = heap[i]!
    const b = heap[j]!
    heap[i] = b
    heap[j] = a
    a.index = j
    b.index = i
  }
  function up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1
      if (heap[p]!.deadline <= heap[i]!.deadline) return
      swap(i, p)
      i = p
    }
  }
  function down(i: number): void {
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < heap.length && heap[l]!.deadline < heap[m]!.deadline) m = l
      if (r < heap.length && heap[r]!.deadline < heap[m]!.deadline) m = r
      if (m === i) return
      swap(i, m)
      i = m
    }
  }
  function remove(w: Waiter): void {
    const i = w.index
    if (i < 0) return
    const last = heap.pop()!
    if (last !== w) {
      heap[i] = last
      last.index = i
      down(i)
      up(last.index)
    }
    w.index = -1
  }

  /** Keeps exactly one sleep armed for the earliest deadline (none when nothing is held). */
  function arm(): void {
    const first = heap[0]
    if (!first) {
      armed?.stop.abort()
      armed = null
      return
    }
    if (armed && armed.at <= first.deadline) return
    armed?.stop.abort()
    const timer = { at: first.deadline, stop: new AbortController() }
    armed = timer
    void clock.sleep(Math.max(0, timer.at - clock.now()), timer.stop.signal).then(() => {
      if (timer.stop.signal.aborted) return
      armed = null
      // In deadline order, while the next one's own slack admits it (a short wait stops the batch).
      const now = clock.now()
      while (heap[0] && heap[0].early <= now) heap[0].settle('timeout')
      arm()
    })
  }

  function groupFor(scope: readonly string[]): ScopeGroup {
    const key = JSON.stringify(scope)
    let g = groups.get(key)
    if (!g) {
      g = { key, scope: deps.scopes.hold(scope), waiters: new Set() }
      groups.set(key, g)
    }
    return g
  }

  return {
    wait(scope, ms, signal) {
      if (closed) return Promise.resolve('closed')
      if (signal?.aborted) return Promise.resolve('aborted')
      return new Promise<WaitOutcome>((resolve) => {
        const group = groupFor(scope)
        const onAbort = () => waiter.settle('aborted')
        const deadline = clock.now() + ms
        const waiter: Waiter = {
          deadline,
          early: deadline - Math.min(COALESCE_MS, ms * COALESCE_FRACTION),
          index: heap.length,
          group,
          settle(outcome) {
            if (waiter.index < 0) return
            remove(waiter)
            group.waiters.delete(waiter)
            if (group.waiters.size === 0 && groups.get(group.key) === group) {
              groups.delete(group.key)
              group.scope.release()
            }
            signal?.removeEventListener('abort', onAbort)
            resolve(outcome)
          },
        }
        heap.push(waiter)
        up(waiter.index)
        group.waiters.add(waiter)
        signal?.addEventListener('abort', onAbort, { once: true })
        arm()
      })
    },
    get held() {
      return heap.length
    },
    shared<T>(key: string, compute: () => T): T {
      if (!memo) {
        memo = new Map()
        setTimeout(() => (memo = null), 0)
      }
      if (memo.has(key)) return memo.get(key) as T
      const value = compute()
      memo.set(key, value)
      return value
    },
    close() {
      if (closed) return
      closed = true
      unsubscribe()
      while (heap[0]) heap[0].settle('closed')
      arm()
    },
  }
}
