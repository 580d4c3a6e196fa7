/**
 * Pages shared by every request asking at the same cursor and scope between two commits: a
 * commit that wakes 2,000 held requests builds their page once, and their 2,000 re-asks at the
 * new cursor (each an empty page to hold on) build theirs once too. Any commit forgets them all,
 * so no page outlives the state it was read from.
 *
 * Only empty pages stay until that commit (they are a few dozen bytes; at most EMPTY_KEPT of
 * them). A page with entries is kept while a wake is being answered (its batches span several
 * turns of the event loop) and dropped at the first turn after, so a big page is not held in
 * memory on a quiet pod.
 */
const EMPTY_KEPT = 1024

export interface SharedPage {
  answer: Uint8Array
  memories: readonly unknown[]
}

export class SharedPages {
  private readonly empty = new Map<string, SharedPage>()
  private readonly full = new Map<string, SharedPage>()
  private sweeping = false

  /** @param answering true while woken requests are still being answered (keep full pages until then). */
  constructor(private readonly answering: () => boolean) {}

  get<T extends SharedPage>(key: string, compute: () => T): T {
    const kept = this.empty.get(key) ?? this.full.get(key)
    if (kept) return kept as T
    const page = compute()
    if (page.memories.length === 0) {
      if (this.empty.size >= EMPTY_KEPT) this.empty.clear()
      this.empty.set(key, page)
    } else {
      this.full.set(key, page)
      this.sweepSoon()
    }
    return page
  }

  /** The store changed: nothing kept may be served again. */
  forget(): void {
    this.empty.clear()
    this.full.clear()
  }

  private sweepSoon(): void {
    if (this.sweeping) return
    this.sweeping = true
    const sweep = () => {
      if (this.answering()) return void setImmediate(sweep)
      this.sweeping = false
      this.full.clear()
    }
    setImmediate(sweep)
  }
}
