/**
 * A whole scope (up to 16 globs) as one lazily built DFA, the way RE2 runs regexes: each
 * character of a label costs one table lookup for all globs together, and a state's
 * transitions are computed only when a label first needs them (a bit-parallel NFA step over
 * every position of every glob). Labels of one pod share most of their states (a common prefix,
 * the same shapes), so serving a feed to a scope of 16 adversarial globs costs about what one
 * plain prefix glob costs. The state count is capped (memory): past the cap, a label that reaches
 * a state without a stored transition finishes by stepping the NFA itself (no new state is kept),
 * which is cheap for a short rest (labels that differ only near their end, like numbered ones);
 * with a long rest left it answers undefined and the caller matches glob by glob
 * (src/lib/glob.ts), each in linear time. A label with a non-ASCII character answers undefined.
 *
 * NFA: glob g owns positions base_g … base_g + m_g (the last one: the whole glob matched). A set
 * bit p means "glob char p is next". On character c a position moves on if its glob char is c
 * or `?`, and stays if it is `*`; a `*` may also match nothing (closure: p in ⇒ p + 1 in).
 */

const QMARK = 63
const STAR = 42
/** ASCII only: one row of 128 transitions per state. */
const ALPHABET = 128
const STATES_MAX = 2048
/** Past the cap, at most this many characters ×32 positions are stepped through the NFA per label. */
const NFA_BUDGET = 64 * 64
const UNKNOWN = -1

export type DfaMatcher = (text: string) => boolean | undefined

export function scopeDfa(globs: readonly string[]): DfaMatcher {
  let positions = 0
  for (const g of globs) positions += g.length + 1
  const W = Math.max(1, Math.ceil(positions / 32))
  const star = new Uint32Array(W)
  const accept = new Uint32Array(W)
  /** Star positions followed only by stars: the glob matches whatever comes next. */
  const sure = new Uint32Array(W)
  /** Per ASCII code: the positions that move on when the label has it (that code or `?`). */
  const moves = new Uint32Array(ALPHABET * W)
  const start0 = new Uint32Array(W)
  const set = (a: Uint32Array, p: number, off = 0) => {
    a[off + (p >>> 5)]! |= 1 << (p & 31)
  }
  let base = 0
  for (const g of globs) {
    set(start0, base)
    set(accept, base + g.length)
    let tailStars = true
    for (let i = g.length - 1; i >= 0; i--) {
      const c = g.charCodeAt(i)
      if (c !== STAR) tailStars = false
      else if (tailStars) set(sure, base + i)
    }
    for (let i = 0; i < g.length; i++) {
      const c = g.charCodeAt(i)
      if (c === STAR) set(star, base + i)
      else if (c === QMARK) for (let a = 0; a < ALPHABET; a++) set(moves, base + i, a * W)
      else if (c < ALPHABET) set(moves, base + i, c * W)
      // A non-ASCII literal never moves on an ASCII character, and other labels fall back.
    }
    base += g.length + 1
  }
  close(start0, star, W)

  const states: Uint32Array[] = []
  const ids = new Map<string, number>()
  let flags = new Uint8Array(0) // 1 accept, 2 sure match, 4 dead
  let trans = new Int32Array(0)
  const next = new Uint32Array(W)
  const cur = new Uint32Array(W)

  function intern(s: Uint32Array): number {
    let key = ''
    for (let w = 0; w < W; w++) key += String.fromCharCode(s[w]! & 0xffff, s[w]! >>> 16)
    const known = ids.get(key)
    if (known !== undefined) return known
    const id = states.length
    if (id >= flags.length) {
      const cap = Math.max(64, flags.length * 2)
      const f = new Uint8Array(cap)
      f.set(flags)
      flags = f
      const t = new Int32Array(cap * ALPHABET).fill(UNKNOWN)
      t.set(trans)
      trans = t
    }
    let acc = 0
    let sur = 0
    let any = 0
    for (let w = 0; w < W; w++) {
      acc |= s[w]! & accept[w]!
      sur |= s[w]! & sure[w]!
      any |= s[w]!
    }
    flags[id] = (acc ? 1 : 0) | (sur ? 2 : 0) | (any ? 0 : 4)
    states.push(Uint32Array.from(s))
    ids.set(key, id)
    return id
  }

  const startId = intern(start0)

  /** One NFA step: next = the positions `s` reaches on character code c (closed). */
  function nfaStep(s: Uint32Array, c: number): void {
    const m = c * W
    let carry = 0
    for (let w = 0; w < W; w++) {
      const moved = s[w]! & moves[m + w]!
      next[w] = (moved << 1) | carry | (s[w]! & star[w]!)
      carry = moved >>> 31
    }
    close(next, star, W)
  }

  /** The state after `c` from state `id`, computed once; -1 when the table is full. */
  function step(id: number, c: number): number {
    if (states.length >= STATES_MAX) return -1
    nfaStep(states[id]!, c)
    const to = intern(next)
    trans[id * ALPHABET + c] = to
    return to
  }

  /** The rest of a label from state `id` at j, stepping the NFA (the table is full). */
  function finishByNfa(text: string, id: number, j: number): boolean | undefined {
    if ((text.length - j) * W > NFA_BUDGET) return undefined
    cur.set(states[id]!)
    for (; j < text.length; j++) {
      const c = text.charCodeAt(j)
      if (c >= ALPHABET) return undefined
      nfaStep(cur, c)
      let alive = 0
      let sur = 0
      for (let w = 0; w < W; w++) {
        alive |= next[w]!
        sur |= next[w]! & sure[w]!
      }
      if (sur) return true
      if (!alive) return false
      cur.set(next)
    }
    let acc = 0
    for (let w = 0; w < W; w++) acc |= cur[w]! & accept[w]!
    return acc !== 0
  }

  return function matchesScopeDfa(text) {
    // Locals, reloaded after step() (which may grow the tables): the loop is the hot path.
    let tr = trans
    let fl = flags
    let id = startId
    for (let j = 0; j < text.length; j++) {
      const f = fl[id]!
      if (f !== 0) {
        if (f & 2) return true
        if (f & 4) return false
      }
      const c = text.charCodeAt(j)
      if (c >= ALPHABET) return undefined
      let to = tr[id * ALPHABET + c]!
      if (to === UNKNOWN) {
        to = step(id, c)
        if (to < 0) return finishByNfa(text, id, j)
        tr = trans
        fl = flags
      }
      id = to
    }
    return (fl[id]! & 1) !== 0
  }
}

/** A `*` may match nothing: every star position in `s` also puts the position after it in. */
function close(s: Uint32Array, star: Uint32Array, W: number): void {
  for (;;) {
    let changed = 0
    let carry = 0
    for (let w = 0; w < W; w++) {
      const st = s[w]! & star[w]!
      const add = ((st << 1) | carry) & ~s[w]!
      carry = st >>> 31
      s[w]! |= add
      changed |= add
    }
    if (!changed) return
  }
}
