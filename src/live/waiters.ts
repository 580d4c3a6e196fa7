/**
 * Held long-polls of POST /peer/sync (contract "Long-poll: wait"): a request whose delta is
 * empty waits here until a committed change that its scope may receive, its deadline, the
 * caller going away, a newer request from the same peer, or shutdown.
 *
 * What wakes a waiter is decided from the store's commit notifications (commit-journal.ts):
 * only changes that moved the feed AND are (or were) gate-eligible carry a label, so a private,
 * `AES:`, `peer:` or held write wakes nobody, and a public one wakes only the scopes that match
 * the label it is served under now or was served under before (its tombstone).
 *
 * Bounds (contract Part 1c): at most MAX_HELD_PER_PEER held requests per peer; a further one
 * answers that peer's oldest at once ('superseded': an empty page with its cursor), so a puller
 * that restarted mid-hold is never locked out and a peer cannot pile up held requests. Waiters
 * are grouped by scope; a group's matcher comes from the pod's ScopeMatchers and never grows
 * (no compilation on a commit), so a commit costs a few linear glob matches per held scope.
 *
 * Scale: 2,000 held requests cost one small object each and ONE timer in total (deadline-heap.ts;
 * a single clock.sleep is armed for the earliest deadline and re-armed only when a new waiter's
 * deadline is earlier). A commit's wake only marks who is woken; answering them runs after the
 * commit's own caller (the local write's answer goes out first), in batches that let other
 * requests in between.
 */
import type { Clock } from '../lib/clock'
import type { HeldScope, ScopeMatchers } from '../scope'
import type { CommitListener, CommittedChange } from '../store'
import { DeadlineHeap } from './deadline-heap'
import { SharedPages, type SharedPage } from './shared-pages'

export type WaitOutcome = 'changed' | 'timeout' | 'aborted' | 'closed' | 'superseded'

/** Held requests per peer (contract Part 1c); a further one answers the oldest. */
export const MAX_HELD_PER_PEER = 2

/**
 * When the timer fires for the earliest deadline, every waiter whose deadline is at most this
 * much later is answered with it (and at most a twentieth of its own wait early, so a 1 s wait
 * loses 50 ms at most). A hub holding 2,000 long-polls then wakes about once a second and
 * answers (and takes the re-asks of) a batch, its code and data warm, instead of one request at
 * a time with cold caches; each held request is answered at most 2 % of its wait early.
 */
const COALESCE_MS = 1000
const COALESCE_FRACTION = 1 / 20
/** Woken requests answered per turn of the event loop: other requests (a local write) get in between. */
const WAKE_BATCH = 64

interface Waiter {
  deadline: number
  /** The earliest it may be answered empty with another waiter's expiry: deadline minus its coalescing slack. */
  early: number
  /** Position in the heap; -1 once settled. */
  index: number
  group: ScopeGroup
  holder: string | undefined
  settle(outcome: WaitOutcome): void
}

interface ScopeGroup {
  key: string
  scope: HeldScope
  waiters: Set<Waiter>
}

export interface WaitOptions {
  /** The caller's connection: aborted → 'aborted'. */
  signal?: AbortSignal
  /** Who asks (the peer id): at most MAX_HELD_PER_PEER are held per holder. */
  holder?: string
}

export interface WaiterRegistry {
  /**
   * Holds until a committed change `scope` may receive (→ 'changed'), `ms` passes ('timeout'),
   * `signal` aborts ('aborted'), the same holder asks a third time ('superseded', the oldest of
   * its held ones) or close() ('closed').
   */
  wait(scope: readonly string[], ms: number, opts?: WaitOptions): Promise<WaitOutcome>
  /** Requests held right now. */
  readonly held: number
  /** Answers every held request at once ('closed') and refuses to hold new ones. */
  close(): void
  /**
   * `compute()`, shared by every caller asking with the same `key` (cursor, scope, limit) until
   * the next commit: see shared-pages.ts.
   */
  shared<T extends SharedPage>(key: string, compute: () => T): T
}

export function createWaiterRegistry(deps: {
  clock: Clock
  onCommit(listener: CommitListener): () => void
  /** The pod's compiled scopes (shared with its store's feed). */
  scopes: ScopeMatchers
}): WaiterRegistry {
  const { clock } = deps
  const heap = new DeadlineHeap<Waiter>()
  const groups = new Map<string, ScopeGroup>()
  /** Each holder's held requests, oldest first. */
  const byHolder = new Map<string, Waiter[]>()
  let closed = false
  /** The one armed timer: its deadline and how to disarm it. */
  let armed: { at: number; stop: AbortController } | null = null
  /** Woken by a commit, not answered yet (answered in batches, after the commit's caller). */
  let woken: Waiter[] = []
  let flushing = false
  const pages = new SharedPages(() => flushing)

  const unsubscribe = deps.onCommit((changes) => {
    pages.forget()
    wake(changes)
  })

  function wake(changes: readonly CommittedChange[]): void {
    if (heap.size === 0) return
    const labels: string[] = []
    for (const c of changes) {
      if (!c.feed) continue
      if (c.feed.served !== null) labels.push(c.feed.served)
      if (c.feed.was !== null && c.feed.was !== c.feed.served) labels.push(c.feed.was)
    }
    if (labels.length === 0) return
    // Label by label over every held scope (each label is indexed once for all of them).
    const hit = new Set<ScopeGroup>()
    for (const label of labels) {
      for (const group of groups.values()) if (!hit.has(group) && group.scope.matches(label)) hit.add(group)
    }
    for (const group of hit) {
      for (const w of group.waiters) {
        release(w)
        woken.push(w)
      }
    }
    if (woken.length > 0 && !flushing) {
      flushing = true
      setImmediate(flush)
    }
  }

  /** Answers woken requests, WAKE_BATCH per turn of the event loop. */
  function flush(): void {
    const batch = woken.length <= WAKE_BATCH ? woken : woken.splice(0, WAKE_BATCH)
    if (batch === woken) woken = []
    for (const w of batch) w.settle('changed')
    if (woken.length > 0) setImmediate(flush)
    else flushing = false
  }

  /** Takes a waiter out of the heap, its group and its holder's list (it is then settled by whoever took it). */
  function release(w: Waiter): void {
    heap.remove(w)
    const group = w.group
    group.waiters.delete(w)
    if (group.waiters.size === 0 && groups.get(group.key) === group) {
      groups.delete(group.key)
      group.scope.release()
    }
    if (w.holder !== undefined) {
      const list = byHolder.get(w.holder)
      const i = list?.indexOf(w) ?? -1
      if (i >= 0) list!.splice(i, 1)
      if (list?.length === 0) byHolder.delete(w.holder)
    }
  }

  /** Keeps exactly one sleep armed for the earliest deadline (none when nothing is held). */
  function arm(): void {
    const first = heap.peek()
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
      for (let w = heap.peek(); w && w.early <= now; w = heap.peek()) {
        release(w)
        w.settle('timeout')
      }
      arm()
    })
  }

  /**
   * Each scope array's group key, made once per array: a hub's askers share one frozen scope
   * array per distinct request text (memoizedRequestDecoder), and JSON.stringify on every hold
   * was 2 % of a hub's CPU in a fan-out.
   */
  const keys = new WeakMap<readonly string[], string>()
  /** A frozen array's key is kept: no caller can change what it says. */
  function keyOf(scope: readonly string[]): string {
    if (!Object.isFrozen(scope)) return JSON.stringify(scope)
    let key = keys.get(scope)
    if (key === undefined) keys.set(scope, (key = JSON.stringify(scope)))
    return key
  }
  function groupFor(scope: readonly string[]): ScopeGroup {
    const key = keyOf(scope)
    let g = groups.get(key)
    if (!g) {
      g = { key, scope: deps.scopes.hold(scope), waiters: new Set() }
      groups.set(key, g)
    }
    return g
  }

  return {
    wait(scope, ms, opts = {}) {
      const { signal, holder } = opts
      if (closed) return Promise.resolve('closed')
      if (signal?.aborted) return Promise.resolve('aborted')
      return new Promise<WaitOutcome>((resolve) => {
        let answered = false
        const onAbort = () => {
          release(waiter)
          waiter.settle('aborted')
        }
        const deadline = clock.now() + ms
        const waiter: Waiter = {
          deadline,
          early: deadline - Math.min(COALESCE_MS, ms * COALESCE_FRACTION),
          index: -1,
          group: groupFor(scope),
          holder,
          settle(outcome) {
            if (answered) return
            answered = true
            signal?.removeEventListener('abort', onAbort)
            resolve(outcome)
          },
        }
        if (holder !== undefined) {
          let list = byHolder.get(holder)
          if (!list) byHolder.set(holder, (list = []))
          // A peer at its cap: its oldest held request answers now (empty, with its cursor).
          while (list.length >= MAX_HELD_PER_PEER) {
            const oldest = list[0]!
            release(oldest)
            oldest.settle('superseded')
          }
          list.push(waiter)
        }
        heap.push(waiter)
        waiter.group.waiters.add(waiter)
        signal?.addEventListener('abort', onAbort, { once: true })
        arm()
      })
    },
    get held() {
      return heap.size
    },
    shared<T extends SharedPage>(key: string, compute: () => T): T {
      return pages.get(key, compute)
    },
    close() {
      if (closed) return
      closed = true
      unsubscribe()
      pages.forget()
      for (let w = heap.peek(); w; w = heap.peek()) {
        release(w)
        w.settle('closed')
      }
      for (const w of woken.splice(0)) w.settle('closed')
      arm()
    },
  }
}
