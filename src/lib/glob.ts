/**
 * Label globs for peer scopes: `*` matches any run of characters (also empty), `?` exactly one,
 * every other character is literal. `"*"` matches every label. Characters are UTF-16 code units,
 * as JavaScript's `length` counts them.
 *
 * Matching never uses a regex: a peer chooses the globs, and `*a*a*…*#` as a backtracking regex
 * is exponential in the number of stars (issue 8: one request froze the pod for 27 s). A glob is
 * compiled into its star-separated segments; the first must be a prefix, the last a suffix and
 * the ones between are found leftmost-first, which is correct because a `*` can absorb whatever
 * lies between two segments. Literal segments are found with `indexOf`; a `?` segment by its
 * longest literal run while that is rare, else by Shift-And, so one glob costs O(label ×
 * ⌈glob/32⌉) at worst, whatever labels and globs a peer picks; never exponential.
 *
 * The limits of a scope (contract Part 1b) are the wire's: src/protocol/scope.ts.
 */

const QMARK = 63 // '?'
/** Anchor occurrences checked one by one before a wild segment is searched with Shift-And instead. */
const ANCHOR_PROBES_MAX = 2

interface Segment {
  text: string
  /** True when the segment holds a `?`, so `indexOf` cannot find it whole. */
  wild: boolean
  /** Of a wild segment: its longest run without `?` (maybe empty), searched with `indexOf`, and where it starts. */
  anchor: string
  anchorAt: number
  /** Shift-And tables of a wild segment (see findWild). */
  shiftAnd?: ShiftAnd
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
  return wild ? { text, wild, anchor, anchorAt, shiftAnd: shiftAnd(text) } : { text, wild, anchor, anchorAt }
}

export function compileGlob(glob: string): CompiledGlob {
  const parts = glob.split('*')
  if (parts.length === 1) {
    const head = segment(glob)
    return { exact: true, head, middle: [], tail: segment(''), minLength: glob.length }
  }
  const head = segment(parts[0]!)
  const tail = segment(parts[parts.length - 1]!)
  const middle = parts.slice(1, -1).filter((p) => p !== '').map(segment)
  return { exact: false, head, middle, tail, minLength: glob.length - (parts.length - 1) }
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
function find(text: string, seg: Segment, from: number, end: number): number {
  const last = end - seg.text.length
  if (!seg.wild) {
    const at = text.indexOf(seg.text, from)
    return at >= 0 && at <= last ? at : -1
  }
  if (seg.anchor === '') return from <= last ? from : -1 // only `?`: any place with room
  // Every match has the anchor at at + anchorAt: visit the anchor's occurrences left to right and
  // check the whole segment there, which is quick while the anchor is rare. When it is everywhere
  // (a peer that knows our labels can arrange that), go on with Shift-And: one pass, no re-checks.
  let probes = 0
  for (let probe = from + seg.anchorAt; ; ) {
    const hit = text.indexOf(seg.anchor, probe)
    const at = hit - seg.anchorAt
    if (hit < 0 || at > last) return -1
    if (++probes > ANCHOR_PROBES_MAX) return findWild(text, seg.shiftAnd!, seg.text.length, at, end)
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

export function matchesCompiled(text: string, g: CompiledGlob): boolean {
  if (g.exact) return text.length === g.head.text.length && matchesAt(text, 0, g.head)
  if (text.length < g.minLength) return false
  const end = text.length - g.tail.text.length
  if (!matchesAt(text, 0, g.head) || !matchesAt(text, end, g.tail)) return false
  let at = g.head.text.length
  for (const seg of g.middle) {
    const found = find(text, seg, at, end)
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

/** A matcher for one scope, compiled once (for a loop over many labels). */
export function scopeMatcher(globs: readonly string[]): (text: string) => boolean {
  const list = globs.map(compileGlob)
  return function matchesScope(text) {
    for (const g of list) if (matchesCompiled(text, g)) return true
    return false
  }
}
