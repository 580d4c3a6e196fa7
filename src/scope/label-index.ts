/**
 * One label's character positions as bitsets (bit j of a character's words: the label has it at
 * j), built once per label when a wild glob segment first needs searching and shared by every
 * glob matched against that label. A wild segment is then found by intersecting, per literal
 * character of the segment, the set of start positions that put that character where the
 * segment wants it: work per literal character of the glob, not per character of the label, and
 * it stops as soon as no start is left. Rarest character first, so a segment needing a character
 * the label lacks (or has too few of) fails at once. Only ASCII labels of at most
 * INDEX_MAX_CHARS are indexed; others take Shift-And (glob.ts).
 *
 * An index is owned by whoever matches (one per ScopeMatchers): matching is synchronous, so one
 * index and its scratch serve every scope of a pod, and no two pods share one.
 */

/** Labels up to this long are indexed (own labels are at most 256 characters: LABEL_MAX_CHARS). */
const INDEX_MAX_CHARS = 256
/** Words per character in the index: 8 hold 256 positions; the rest stay 0 for reads shifted past the end. */
const STRIDE = 16

export interface LiteralGroup {
  code: number
  offsets: number[]
}

export class LabelIndex {
  private text = ''
  private built = false
  private ok = false
  readonly occ = new Uint32Array(128 * STRIDE)
  readonly count = new Uint16Array(128)
  /** Candidate start positions of findIndexed (256 bits). */
  readonly cand = new Uint32Array(8)
  private readonly used: number[] = []

  /** Points the index at `text`; it is rebuilt on first use unless it already holds this label. */
  reset(text: string): void {
    if (this.built && text === this.text) return
    this.text = text
    this.built = false
  }

  /** Builds the index for the current label on first use; false if the label cannot be indexed. */
  ready(): boolean {
    if (this.built) return this.ok
    this.built = true
    for (const c of this.used) {
      this.occ.fill(0, c * STRIDE, (c + 1) * STRIDE)
      this.count[c] = 0
    }
    this.used.length = 0
    const t = this.text
    this.ok = false
    if (t.length > INDEX_MAX_CHARS) return false
    for (let j = 0; j < t.length; j++) {
      const c = t.charCodeAt(j)
      if (c >= 128) return false
      if (this.count[c]!++ === 0) this.used.push(c)
      this.occ[c * STRIDE + (j >>> 5)]! |= 1 << (j & 31)
    }
    this.ok = true
    return true
  }
}

/** Leftmost start ≥ from of a wild segment of length m ending by `end`, or -1 (bitset intersection). */
export function findIndexed(ix: LabelIndex, groups: LiteralGroup[], m: number, from: number, end: number): number {
  const last = end - m
  if (last < from) return -1
  const count = ix.count
  for (const g of groups) if (count[g.code]! < g.offsets.length) return -1 // the label has too few of it
  if (groups.length > 1) groups.sort((a, b) => count[a.code]! - count[b.code]!) // rarest first: fewest starts left soonest
  const cand = ix.cand
  let w0 = from >>> 5
  let w1 = last >>> 5
  cand.fill(0xffffffff, w0, w1 + 1)
  cand[w0]! &= 0xffffffff << (from & 31)
  cand[w1]! &= 0xffffffff >>> (31 - (last & 31))
  const occ = ix.occ
  for (const g of groups) {
    for (const k of g.offsets) {
      // Start p stays if the label has the character at p + k: the character's bits shifted down by k.
      const base = g.code * STRIDE + (k >>> 5)
      const r = k & 31
      for (let w = w0; w <= w1; w++) {
        const lo = occ[base + w]!
        cand[w]! &= r === 0 ? lo : (lo >>> r) | (occ[base + w + 1]! << (32 - r))
      }
      // Narrow to the words that still hold a start; none left: no match.
      while (w0 <= w1 && cand[w0] === 0) w0++
      while (w1 >= w0 && cand[w1] === 0) w1--
      if (w0 > w1) return -1
    }
  }
  const x = cand[w0]!
  return (w0 << 5) + 31 - Math.clz32(x & -x)
}
