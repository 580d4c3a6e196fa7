/**
 * A whole scope (up to 16 globs) as one lazily built DFA, the way RE2 runs regexes: each
 * character of a label costs one table lookup for all globs together, and a state's
 * transitions are computed only when a label first needs them (a bit-parallel NFA step over
 * every position of every glob). Labels of one pod share most of their states (a common prefix,
 * the same shapes), so serving a feed to a scope of 16 adversarial globs costs about what one
 * plain prefix glob costs. The state count is capped, and every byte it allocates is asked of
 * its owner's budget first (scope-matchers.ts: all scopes of a pod share one); past the cap or
 * the budget, a label that reaches a state without a stored transition finishes by stepping the
 * NFA itself (no new state is kept), which is cheap for a short rest (labels that differ only
 * near their end, like numbered ones); with a long rest left it answers undefined and the caller
 * matches glob by glob (glob.ts), each in linear time. A label with a non-ASCII character
 * answers undefined.
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

/** Room for this many states at first; the tables double as states are added. */
const STATES_FIRST = 8
/** Rough bytes one state holds besides its transition row: its position set, its key and the map entry. */
const STATE_OVERHEAD_BYTES = 160

export interface ScopeDfa {
  /** Does the scope match `text`? undefined when the DFA cannot tell (see above). */
  match(text: string): boolean | undefined
  /** Bytes its tables hold now (all of them were granted by `grow`). */
  readonly bytes: number
}

/**
 * The scope's DFA, or null when `grow` refuses even its first tables. `grow(n)` is asked before
 * every allocation of n bytes; false means "no more": the DFA stops adding states.
 */
export function scopeDfa(globs: readonly string[], grow: (bytes: number) => boolean = () => true): ScopeDfa | null {
  let positions = 0
  for (const g of globs) positions += g.length + 1
  const W = Math.max(1, Math.ceil(positions / 32))
  let bytes = (ALPHABET + 6) * W * 4
  if (!grow(bytes)) return null
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

  /** The id of state `s`, added if new; -1 when the budget refuses the room a new one needs. */
  function intern(s: Uint32Array): number {
    let key = ''
    for (let w = 0; w < W; w++) key += String.fromCharCode(s[w]! & 0xffff, s[w]! >>> 16)
    const known = ids.get(key)
    if (known !== undefined) return known
    const id = states.length
    const cap = id >= flags.length ? Math.max(STATES_FIRST, flags.length * 2) : flags.length
    const more = STATE_OVERHEAD_BYTES + 4 * W + (cap - flags.length) * (ALPHABET * 4 + 1)
    if (!grow(more)) return -1
    bytes += more
    if (id >= flags.length) {
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
  if (startId < 0) return null

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

  /** The state after `c` from state `id`, computed once; -1 when the table is full or the budget spent. */
  function step(id: number, c: number): number {
    if (states.length >= STATES_MAX) return -1
    nfaStep(states[id]!, c)
    const to = intern(next)
    if (to >= 0) trans[id * ALPHABET + c] = to
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

  function match(text: string): boolean | undefined {
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

  return {
    match,
    get bytes() {
      return bytes
    },
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
