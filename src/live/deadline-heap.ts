/**
 * An indexed binary min-heap of deadlines: push, remove any item by its stored index, peek the
 * earliest. Each item keeps its own position (`index`, -1 once out), so removing a held request
 * that was answered early costs O(log n) without a search.
 */
export interface HeapItem {
  deadline: number
  /** Position in the heap; -1 when not in it. */
  index: number
}

export class DeadlineHeap<T extends HeapItem> {
  private readonly items: T[] = []

  get size(): number {
    return this.items.length
  }

  /** The item with the earliest deadline, if any. */
  peek(): T | undefined {
    return this.items[0]
  }

  push(item: T): void {
    item.index = this.items.length
    this.items.push(item)
    this.up(item.index)
  }

  /** Takes `item` out (nothing if it is not in). */
  remove(item: T): void {
    const i = item.index
    if (i < 0) return
    const last = this.items.pop()!
    if (last !== item) {
      this.items[i] = last
      last.index = i
      this.down(i)
      this.up(last.index)
    }
    item.index = -1
  }

  private swap(i: number, j: number): void {
    const a = this.items[i]!
    const b = this.items[j]!
    this.items[i] = b
    this.items[j] = a
    a.index = j
    b.index = i
  }

  private up(i: number): void {
    const h = this.items
    while (i > 0) {
      const p = (i - 1) >> 1
      if (h[p]!.deadline <= h[i]!.deadline) return
      this.swap(i, p)
      i = p
    }
  }

  private down(i: number): void {
    const h = this.items
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < h.length && h[l]!.deadline < h[m]!.deadline) m = l
      if (r < h.length && h[r]!.deadline < h[m]!.deadline) m = r
      if (m === i) return
      this.swap(i, m)
      i = m
    }
  }
}
