/**
 * One label glob, compiled: `*` matches any run of characters (also empty), `?` exactly one,
 * every other character is literal. `"*"` matches every label. Characters are UTF-16 code units,
 * as JavaScript's `length` counts them.
 *
 * Matching never uses a regex: a peer chooses the globs, and `*a*a*…*#` as a backtracking regex
 * is exponential in the number of stars (one request once froze the pod for 27 s). A glob is
 * compiled into its star-separated segments; the first must be a prefix, the last a suffix and
 * the ones between are found leftmost-first, which is correct because a `*` can absorb whatever
 * lies between two segments. Literal segments are found with `indexOf`; a `?` segment by its
 * longest literal run while that is rare, else in the label's index of character positions
 * (label-index.ts) or, for a label without one, by Shift-And; so one glob costs O(label ×
 * ⌈glob/32⌉) at worst, whatever labels and globs a peer picks; never exponential.
 *
 * Nothing here is shared between calls except what the caller passes in (a LabelIndex), so two
 * pods in one process never touch each other's state.
 */
import { findIndexed, type LabelIndex, type LiteralGroup } from './label-index'

const QMARK = 63 // '?'
/** Anchor occurrences checked one by one before a wild segment is searched another way. */
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
  /** Shift-And tables of a wild segment with an anchor (see findWild). */
  shiftAnd?: ShiftAnd
  /** Of a wild ASCII segment: its literal characters, each with the offsets it sits at (see findIndexed). */
  groups?: LiteralGroup[]
}

/**
 * Bit-parallel matching of a wild segment (Shift-And, Baeza-Yates–Gonnet): bit i of the state is
 * set when the segment's first i+1 characters match the text ending here. One pass over the
 * text at ⌈m/32⌉ word operations per character, whatever the text and the segment hold: trying
 * the segment at every position instead costs up to m comparisons each, and a peer that knows
 * our (public) labels can aim `?a?a…?#` at long repetitive labels. Only labels the index cannot
 * take (non-ASCII, or longer than it) come here, so the tables stay small: a mask per distinct
 * literal character of the segment, found by a short scan, instead of a 128-entry table.
 */
interface ShiftAnd {
  words: number
  /** The segment's distinct literal characters; their masks follow `any` in `masks`. */
  codes: number[]
  /** `words` words per entry: entry 0 is the `?` positions (any character the segment does not name), entry k+1 is codes[k]'s positions plus those. */
  masks: Uint32Array
  /** The running state (matching is synchronous, so one per segment is enough). */
  state: Uint32Array
}

export interface CompiledGlob {
  /** The glob as written. */
  source: string
  /** No `*`: the label must be exactly as long as `head` and match it. */
  exact: boolean
  head: Segment
  middle: Segment[]
  tail: Segment
  /** Characters the label needs at least (all non-star characters). */
  minLength: number
  /** Rough work per label, to try cheap globs first: searched (middle) characters, wild ones weighing more. */
  cost: number
  /** Estimated memory the compiled form holds, for the matcher budget (scope-matchers.ts). */
  bytes: number
  /** Stars only (at least one): matches every label. */
  matchesAll: boolean
}

function shiftAnd(s: string): ShiftAnd {
  const words = Math.ceil(s.length / 32)
  const codes: number[] = []
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c !== QMARK && !codes.includes(c)) codes.push(c)
  }
  const masks = new Uint32Array((codes.length + 1) * words)
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === QMARK) for (let k = 0; k <= codes.length; k++) masks[k * words + (i >>> 5)]! |= 1 << (i & 31)
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c !== QMARK) masks[(codes.indexOf(c) + 1) * words + (i >>> 5)]! |= 1 << (i & 31)
  }
  return { words, codes, masks, state: new Uint32Array(words) }
}

function segment(text: string): Segment {
  // The longest run without `?` (the first of equal ones).
  let anchorAt = 0
  let anchorLength = 0
  for (let i = 0; i < text.length; ) {
    if (text.charCodeAt(i) === QMARK) {
      i++
      continue
    }
    let j = i
    while (j < text.length && text.charCodeAt(j) !== QMARK) j++
    if (j - i > anchorLength) {
      anchorAt = i
      anchorLength = j - i
    }
    i = j
  }
  const anchor = text.slice(anchorAt, anchorAt + anchorLength)
  const wild = anchorLength < text.length
  if (!wild || anchor === '') return { text, wild, anchor, anchorAt }
  return { text, wild, anchor, anchorAt, shiftAnd: shiftAnd(text), groups: literalGroups(text) }
}

/** The literal characters of a wild segment grouped by character, or undefined if one is not ASCII. */
function literalGroups(s: string): LiteralGroup[] | undefined {
  const groups: LiteralGroup[] = []
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === QMARK) continue
    if (c >= 128) return undefined
    const group = groups.find((g) => g.code === c)
    if (group) group.offsets.push(i)
    else groups.push({ code: c, offsets: [i] })
  }
  return groups
}

/** Rough bytes of a segment: its text, Shift-And tables and literal groups, plus object overhead. */
function segmentBytes(s: Segment): number {
  let n = 64 + 2 * s.text.length
  if (s.shiftAnd) n += 96 + 4 * s.shiftAnd.masks.length + 4 * s.shiftAnd.words + 8 * s.shiftAnd.codes.length
  if (s.groups) for (const g of s.groups) n += 48 + 8 * g.offsets.length
  return n
}

export function compileGlob(glob: string): CompiledGlob {
  const parts = glob.split('*')
  const matchesAll = parts.length > 1 && parts.every((p) => p === '')
  let g: Omit<CompiledGlob, 'bytes' | 'source'>
  if (parts.length === 1) {
    g = { exact: true, head: segment(glob), middle: [], tail: segment(''), minLength: glob.length, cost: 0, matchesAll }
  } else {
    const middle = parts
      .slice(1, -1)
      .filter((p) => p !== '')
      .map(segment)
    const cost = middle.reduce((sum, seg) => sum + (seg.wild ? 4 : 1) * seg.text.length, 0)
    g = {
      exact: false,
      head: segment(parts[0]!),
      middle,
      tail: segment(parts[parts.length - 1]!),
      minLength: glob.length - (parts.length - 1),
      cost,
      matchesAll,
    }
  }
  const bytes = 128 + [g.head, g.tail, ...g.middle].reduce((sum, s) => sum + segmentBytes(s), 0)
  return { ...g, source: glob, bytes }
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
  const { words, codes, masks, state } = t
  state.fill(0)
  const top = (m - 1) >>> 5
  const bit = 1 << ((m - 1) & 31)
  for (let j = from; j < end; j++) {
    const base = (codes.indexOf(text.charCodeAt(j)) + 1) * words // -1 (not named) + 1 = the `?` entry
    let carry = 1
    for (let w = 0; w < words; w++) {
      const word = state[w]!
      state[w] = ((word << 1) | carry) & masks[base + w]!
      carry = word >>> 31
    }
    if (state[top]! & bit) return j - m + 1
  }
  return -1
}

/** Does the compiled glob match `text`? `ix`, when given, indexes `text` (the caller reset it to it). */
export function matchesCompiled(text: string, g: CompiledGlob, ix?: LabelIndex): boolean {
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

/** One glob, compiled for this call only (tests and one-off checks; loops compile once: scope-matchers.ts). */
export function matchesGlob(text: string, glob: string): boolean {
  return matchesCompiled(text, compileGlob(glob))
}
