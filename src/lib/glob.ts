/**
 * Label globs for peer scopes: `*` matches any run of characters (also empty), `?` exactly one,
 * every other character is literal. `"*"` matches every label. Characters are UTF-16 code units,
 * as JavaScript's `length` counts them.
 *
 * Matching never uses a regex: a peer chooses the globs, and `*a*a*…*#` as a backtracking regex
 * is exponential in the number of stars (one such request once froze the pod for 27 s). A glob is
 * compiled into its star-separated segments; the first must be a prefix, the last a suffix and
 * the ones between are found leftmost-first, which is correct because a `*` can absorb whatever
 * lies between two segments. Literal segments are found with `indexOf`; a `?` segment by its
 * longest literal run while that is rare, else by Shift-And, so one glob costs O(label ×
 * ⌈glob/32⌉) at worst, whatever labels and globs a peer picks; never exponential.
 *
 * A scope (scopeMatcher, what the change feed uses) runs first as one lazy DFA over all its
 * globs (glob-dfa.ts); what that leaves undecided goes glob by glob, with ? segments found in a
 * per-label index of character positions (LabelIndex) instead of Shift-And.
 *
 * The limits of a scope (contract Part 1b) are the wire's: src/protocol/scope.ts.
 */

import { scopeDfa } from './glob-dfa'

const QMARK = 63 // '?'
/** Anchor occurrences checked one by one before a wild segment is searched with Shift-And instead. */
const ANCHOR_PROBES_MAX = 2
/** Longer wild segments go straight to the label's index (a probe may compare all their characters). */
const PROBE_MAX_CHARS = 16

interface Segment {
  text: string
  /** True when the segment holds a `?`, so `indexOf` cannot find it whole. */
  wild: boolean
  /** Of a wild segment: its longest run without `?` (maybe empty), searched with `indexOf`, and where it starts. */
  anchor: string
  anchorAt: number
  /** Shift-And tables of a wild segment (see findWild). */
  shiftAnd?: ShiftAnd
  /** Of a wild ASCII segment: its literal characters, each with the offsets it sits at (see findIndexed). */
  groups?: LiteralGroup[]
}

interface LiteralGroup {
  code: number
  offsets: number[]
}

/**
 * Bit-parallel matching of a wild segment (Shift-And, Baeza-Yates–Gonnet): bit i of the state is
 * set when the segment's first i+1 characters match the text ending here. One pass over the
 * text at ⌈m/32⌉ word operations per character, whatever the text and the segment hold: trying
 * the segment at every position instead costs up to m comparisons each, and a peer that knows
 * our (public) labels can aim `?a?a…?#` at long repetitive labels (16 globs × 1,000 rows froze
 * the event loop for a second per request).
 */
interface ShiftAnd {
  words: number
  /** Positions holding `?`: the mask of any character the segment does not name. */
  any: Uint32Array
  /** Per ASCII code, `words` words each: its positions plus the `?` positions (a flat table: no lookup per character). */
  ascii: Uint32Array
  /** The same for the segment's other characters. */
  masks: Map<number, Uint32Array>
}

/** Shift-And state, reused (matching is synchronous); 4 words hold a 128-char segment, the wire's longest glob. */
const SCRATCH = new Uint32Array(4)

function shiftAnd(s: string): ShiftAnd {
  const words = Math.ceil(s.length / 32)
  const any = new Uint32Array(words)
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === QMARK) any[i >>> 5]! |= 1 << (i & 31)
  const masks = new Map<number, Uint32Array>()
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === QMARK) continue
    let m = masks.get(c)
    if (!m) masks.set(c, (m = Uint32Array.from(any)))
    m[i >>> 5]! |= 1 << (i & 31)
  }
  const ascii = new Uint32Array(128 * words)
  for (let c = 0; c < 128; c++) ascii.set(masks.get(c) ?? any, c * words)
  return { words, any, ascii, masks }
}

interface CompiledGlob {
  /** No `*`: the label must be exactly as long as `head` and match it. */
  exact: boolean
  head: Segment
  middle: Segment[]
  tail: Segment
  /** Characters the label needs at least (all non-star characters). */
  minLength: number
  /** Rough work per label, to try cheap globs first: searched (middle) characters, wild ones weighing more. */
  cost: number
}

function segment(text: string): Segment {
  let anchor = ''
  let anchorAt = 0
  for (const m of text.matchAll(/[^?]+/g)) {
    if (m[0].length > anchor.length) {
      anchor = m[0]
      anchorAt = m.index
    }
  }
  const wild = text.includes('?')
  return wild ? { text, wild, anchor, anchorAt, shiftAnd: shiftAnd(text), groups: literalGroups(text) } : { text, wild, anchor, anchorAt }
}

/** The literal characters of a wild segment grouped by character, or undefined if one is not ASCII. */
function literalGroups(s: string): LiteralGroup[] | undefined {
  const byCode = new Map<number, number[]>()
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === QMARK) continue
    if (c >= 128) return undefined
    const offsets = byCode.get(c)
    if (offsets) offsets.push(i)
    else byCode.set(c, [i])
  }
  return [...byCode].map(([code, offsets]) => ({ code, offsets }))
}

function compileGlob(glob: string): CompiledGlob {
  const parts = glob.split('*')
  if (parts.length === 1) {
    const head = segment(glob)
    return { exact: true, head, middle: [], tail: segment(''), minLength: glob.length, cost: 0 }
  }
  const head = segment(parts[0]!)
  const tail = segment(parts[parts.length - 1]!)
  const middle = parts
    .slice(1, -1)
    .filter((p) => p !== '')
    .map(segment)
  const cost = middle.reduce((sum, seg) => sum + (seg.wild ? 4 : 1) * seg.text.length, 0)
  return { exact: false, head, middle, tail, minLength: glob.length - (parts.length - 1), cost }
}

/** Does `seg` match `text` at `at` (the caller checked that it fits)? */
function matchesAt(text: string, at: number, seg: Segment): boolean {
  const s = seg.text
  if (!seg.wild) return text.startsWith(s, at)
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c !== QMARK && c !== text.charCodeAt(at + i)) return false
  }
  return true
}

/** Leftmost position ≥ from where `seg` matches and ends by `end`, or -1. */
function find(text: string, seg: Segment, from: number, end: number, ix?: LabelIndex): number {
  const last = end - seg.text.length
  if (!seg.wild) {
    const at = text.indexOf(seg.text, from)
    return at >= 0 && at <= last ? at : -1
  }
  if (seg.anchor === '') return from <= last ? from : -1 // only `?`: any place with room
  // Every match has the anchor at at + anchorAt, so a label without it is out at once (indexOf).
  // A short segment is checked at the anchor's first occurrences (quick while the anchor is rare
  // or the segment matches early); a long one, or after those probes, is searched in the label's
  // index (findIndexed) or, for a label without one, by Shift-And: one pass, no re-checks, however
  // common the anchor (a peer that knows our labels can make it so).
  let probes = 0
  for (let probe = from + seg.anchorAt; ; ) {
    const hit = text.indexOf(seg.anchor, probe)
    const at = hit - seg.anchorAt
    if (hit < 0 || at > last) return -1
    if (++probes > ANCHOR_PROBES_MAX || seg.text.length > PROBE_MAX_CHARS) {
      if (ix && seg.groups && ix.ready()) return findIndexed(ix, seg.groups, seg.text.length, at, end)
      if (probes > ANCHOR_PROBES_MAX) return findWild(text, seg.shiftAnd!, seg.text.length, at, end)
    }
    if (matchesAt(text, at, seg)) return at
    probe = hit + 1
  }
}

/** Leftmost start ≥ from of a wild segment of length m ending by `end`, or -1 (Shift-And). */
function findWild(text: string, t: ShiftAnd, m: number, from: number, end: number): number {
  const state = t.words <= SCRATCH.length ? SCRATCH.fill(0, 0, t.words) : new Uint32Array(t.words)
  const top = (m - 1) >>> 5
  const bit = 1 << ((m - 1) & 31)
  for (let j = from; j < end; j++) {
    const c = text.charCodeAt(j)
    let carry = 1
    if (c < 128) {
      const base = c * t.words
      for (let w = 0; w < t.words; w++) {
        const word = state[w]!
        state[w] = ((word << 1) | carry) & t.ascii[base + w]!
        carry = word >>> 31
      }
    } else {
      const mask = t.masks.get(c) ?? t.any
      for (let w = 0; w < t.words; w++) {
        const word = state[w]!
        state[w] = ((word << 1) | carry) & mask[w]!
        carry = word >>> 31
      }
    }
    if (state[top]! & bit) return j - m + 1
  }
  return -1
}

/** Labels up to this long are indexed (own labels are at most 256 characters: LABEL_MAX_CHARS). */
const INDEX_MAX_CHARS = 256
/** Words per character in the index: 8 hold 256 positions; the rest stay 0 for reads shifted past the end. */
const STRIDE = 16

/**
 * One label's character positions as bitsets (bit j of a character's words: the label has it at
 * j), built once per label when a wild segment first needs searching and shared by every glob of
 * the scope. A wild segment is then found by intersecting, per literal character of the segment,
 * the set of start positions that put that character where the segment wants it: work per
 * literal character of the glob, not per character of the label, and it stops as soon as no
 * start is left. Rarest character first, so a segment needing a character the label lacks (or
 * has too few of) fails at once. Only ASCII labels of at most INDEX_MAX_CHARS are indexed; others
 * take Shift-And.
 */
class LabelIndex {
  private text = ''
  private built = false
  private ok = false
  readonly occ = new Uint32Array(128 * STRIDE)
  readonly count = new Uint16Array(128)
  private readonly used: number[] = []

  reset(text: string): void {
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

/** Candidate start positions of findIndexed (256 bits). */
const CAND = new Uint32Array(8)

/** Leftmost start ≥ from of a wild segment of length m ending by `end`, or -1 (bitset intersection). */
function findIndexed(ix: LabelIndex, groups: LiteralGroup[], m: number, from: number, end: number): number {
  const last = end - m
  if (last < from) return -1
  const count = ix.count
  for (const g of groups) if (count[g.code]! < g.offsets.length) return -1 // the label has too few of it
  if (groups.length > 1) groups.sort((a, b) => count[a.code]! - count[b.code]!) // rarest first: fewest starts left soonest
  let w0 = from >>> 5
  let w1 = last >>> 5
  CAND.fill(0xffffffff, w0, w1 + 1)
  CAND[w0]! &= 0xffffffff << (from & 31)
  CAND[w1]! &= 0xffffffff >>> (31 - (last & 31))
  const occ = ix.occ
  for (const g of groups) {
    for (const k of g.offsets) {
      // Start p stays if the label has the character at p + k: the character's bits shifted down by k.
      const base = g.code * STRIDE + (k >>> 5)
      const r = k & 31
      for (let w = w0; w <= w1; w++) {
        const lo = occ[base + w]!
        CAND[w]! &= r === 0 ? lo : (lo >>> r) | (occ[base + w + 1]! << (32 - r))
      }
      // Narrow to the words that still hold a start; none left: no match.
      while (w0 <= w1 && CAND[w0] === 0) w0++
      while (w1 >= w0 && CAND[w1] === 0) w1--
      if (w0 > w1) return -1
    }
  }
  const x = CAND[w0]!
  return (w0 << 5) + 31 - Math.clz32(x & -x)
}

function matchesCompiled(text: string, g: CompiledGlob, ix?: LabelIndex): boolean {
  if (g.exact) return text.length === g.head.text.length && matchesAt(text, 0, g.head)
  if (text.length < g.minLength) return false
  const end = text.length - g.tail.text.length
  if (!matchesAt(text, 0, g.head) || !matchesAt(text, end, g.tail)) return false
  let at = g.head.text.length
  for (const seg of g.middle) {
    const found = find(text, seg, at, end, ix)
    if (found < 0) return false
    at = found + seg.text.length
  }
  return true
}

const cache = new Map<string, CompiledGlob>()

function compiled(glob: string): CompiledGlob {
  let g = cache.get(glob)
  if (!g) {
    g = compileGlob(glob)
    if (cache.size >= 1000) cache.clear()
    cache.set(glob, g)
  }
  return g
}

export function matchesGlob(text: string, glob: string): boolean {
  return matchesCompiled(text, compiled(glob))
}

export function matchesAny(text: string, globs: readonly string[]): boolean {
  for (const glob of globs) if (matchesCompiled(text, compiled(glob))) return true
  return false
}

/** Compiled scopes kept between requests: a peer pulls its feed page by page with the same scope. */
const SCOPES_KEPT = 8
const scopes = new Map<string, (text: string) => boolean>()

/**
 * A matcher for one scope, compiled once (for a loop over many labels) and kept for the next
 * pages. Identical globs count once and a glob of stars alone matches everything. Labels go
 * through the scope's lazy DFA (glob-dfa.ts: one table lookup per character for all globs); when
 * that cannot answer (a non-ASCII label, or labels so varied that it gave up), the globs are
 * tried one by one, cheapest first, each in linear time.
 */
export function scopeMatcher(globs: readonly string[]): (text: string) => boolean {
  const key = JSON.stringify(globs)
  let m = scopes.get(key)
  if (m) {
    scopes.delete(key) // most recently used last
  } else {
    m = compileScope(globs)
    if (scopes.size >= SCOPES_KEPT) scopes.delete(scopes.keys().next().value!)
  }
  scopes.set(key, m)
  return m
}

function compileScope(globs: readonly string[]): (text: string) => boolean {
  const unique = [...new Set(globs)]
  if (unique.some((g) => g !== '' && g.split('*').every((p) => p === ''))) return () => true
  const dfa = scopeDfa(unique)
  const list = unique.map(compileGlob).sort((a, b) => a.cost - b.cost)
  const ix = new LabelIndex()
  return function matchesScope(text) {
    const answer = dfa(text)
    if (answer !== undefined) return answer
    ix.reset(text)
    for (const g of list) if (matchesCompiled(text, g, ix)) return true
    return false
  }
}

/** The globs one by one, without the DFA (tests compare the two paths). */
export function scopeMatcherDirect(globs: readonly string[]): (text: string) => boolean {
  const list = [...new Set(globs)].map(compileGlob).sort((a, b) => a.cost - b.cost)
  const ix = new LabelIndex()
  return function matchesScopeDirect(text) {
    ix.reset(text)
    for (const g of list) if (matchesCompiled(text, g, ix)) return true
    return false
  }
}
