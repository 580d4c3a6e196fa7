/**
 * Property tests of the scope glob matcher (src/scope/) against a reference: the textbook
 * dynamic-programming wildcard matcher over UTF-16 code units, which is obviously right and
 * obviously polynomial. Plus adversarial patterns (the `*a*a…*#` family that froze the old
 * regex matcher) that must finish; the bound is a generous safety net, not a speed claim.
 */
import { expect, test } from 'bun:test'
import fc from 'fast-check'
import { directMatcher as scopeMatcherDirect, matchesGlob, scopeDfa as buildDfa, ScopeMatchers } from '../../src/scope'
import { GLOB_MAX_CHARS, SCOPE_MAX_GLOBS } from '../../src/protocol'

const matchers = new ScopeMatchers()
const scopeMatcher = (globs: readonly string[]) => matchers.matcher(globs)
const matchesAny = (text: string, globs: readonly string[]) => matchers.matchesAny(text, globs)
/** The scope's DFA alone, with no budget. */
const scopeDfa = (globs: readonly string[]) => buildDfa(globs)!.match

/** dp[i][j]: does glob[0..i) match text[0..j)? `*` any run, `?` one code unit, the rest literal. */
function reference(text: string, glob: string): boolean {
  let prev = new Array<boolean>(text.length + 1).fill(false)
  prev[0] = true
  for (let i = 1; i <= glob.length; i++) {
    const g = glob[i - 1]
    const cur = new Array<boolean>(text.length + 1).fill(false)
    cur[0] = g === '*' && prev[0]!
    for (let j = 1; j <= text.length; j++) {
      if (g === '*') cur[j] = prev[j]! || cur[j - 1]!
      else cur[j] = prev[j - 1]! && (g === '?' || g === text[j - 1])
    }
    prev = cur
  }
  return prev[text.length]!
}

const small = (chars: string[], max: number) => fc.array(fc.constantFrom(...chars), { maxLength: max }).map((a) => a.join(''))
/** Tiny alphabets make matches (and near misses) common. */
const globTiny = small(['a', 'b', '*', '?'], 12)
const textTiny = small(['a', 'b'], 14)
/** Anything, including surrogate halves, regex metacharacters and control characters. */
const anyText = fc.string({ unit: 'binary', maxLength: 40 })
const anyGlob = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.array(fc.constantFrom('*', '?', '.', '+', '(', '[', '\\', '^', '$', '|', 'a', '\n', '\u202e'), { maxLength: 16 }).map((a) => a.join('')),
)

test('matchesGlob agrees with the reference on a tiny alphabet', () => {
  fc.assert(
    fc.property(textTiny, globTiny, (text, glob) => matchesGlob(text, glob) === reference(text, glob)),
    { numRuns: 3000 },
  )
})

test('matchesGlob agrees with the reference on arbitrary strings (metacharacters are literal)', () => {
  fc.assert(
    fc.property(anyText, anyGlob, (text, glob) => matchesGlob(text, glob) === reference(text, glob)),
    { numRuns: 2000 },
  )
})

test('a glob made from a label by turning characters into ? and runs into * always matches it', () => {
  const edit = fc.record({ at: fc.nat(), len: fc.nat({ max: 4 }), star: fc.boolean() })
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 40 }), fc.array(edit, { maxLength: 6 }), (label, edits) => {
      // One token per label code unit; a star token may stand for a run (absorbing the next ones).
      const tokens = label.split('')
      for (const e of edits) {
        if (tokens.length === 0) break
        const at = e.at % tokens.length
        if (e.star) tokens.splice(at, Math.min(e.len, tokens.length - at), '*')
        else tokens[at] = tokens[at] === '*' ? '*' : '?'
      }
      const glob = tokens.join('')
      return matchesGlob(label, glob) && reference(label, glob)
    }),
    { numRuns: 1500 },
  )
})

test('matchesAny and scopeMatcher agree with some() over matchesGlob', () => {
  fc.assert(
    fc.property(textTiny, fc.array(globTiny, { minLength: 1, maxLength: 5 }), (text, globs) => {
      const expected = globs.some((g) => reference(text, g))
      return matchesAny(text, globs) === expected && scopeMatcher(globs)(text) === expected
    }),
    { numRuns: 1500 },
  )
})

test('adversarial scopes (16 globs of 128 chars of *, ?, a, #) over 256-char labels finish', () => {
  const glob = fc.array(fc.constantFrom('*', '*', 'a', '?', '#'), { minLength: GLOB_MAX_CHARS, maxLength: GLOB_MAX_CHARS }).map((a) => a.join(''))
  const label = fc.oneof(fc.constant('a'.repeat(256)), small(['a', 'a', 'a', '#'], 256))
  fc.assert(
    fc.property(
      fc.array(glob, { minLength: SCOPE_MAX_GLOBS, maxLength: SCOPE_MAX_GLOBS }),
      fc.array(label, { minLength: 20, maxLength: 20 }),
      (globs, labels) => {
        const match = scopeMatcher(globs)
        for (const l of labels) match(l)
        return true
      },
    ),
    { numRuns: 50 },
  )
  // The reported pattern, every star count up to the limit, against a long label without '#'.
  for (let stars = 1; stars < GLOB_MAX_CHARS; stars++) expect(matchesGlob('a'.repeat(256), '*'.repeat(stars) + '#')).toBe(false)
  expect(matchesGlob('a'.repeat(256), '*a'.repeat(63) + '*#')).toBe(false)
  // 50 × 16 globs × 20 labels: a backtracking matcher takes minutes (the test's timeout stops it);
  // how long linear matching takes is bench/scope-worst-case.bench.ts's to say, not a test's.
})

test('16 `?`-heavy globs of 128 chars over 1,000 long repetitive labels (one page a peer can aim) finish, none matching', () => {
  // A peer that pulled our public labels can aim `?a?a…?#` at them: trying such a segment at every
  // position costs ~2.5 ms per label here (a 1,000-row page froze the pod ~1.4 s per request).
  const wild = 'public:*' + '?a'.repeat(58) + '?#' + '*?'
  const labels = Array.from({ length: 1000 }, (_, i) => `public:${'a'.repeat(243)}${String(i).padStart(6, '0')}`)
  // (Trying each segment at every position took ~1.4 s per page; the time is the bench's to measure.)
  const match = scopeMatcher(Array(16).fill(wild))
  for (const l of labels) expect(match(l)).toBe(false)
})

// scopeMatcher runs a scope's lazy DFA (glob-dfa.ts) and, where that cannot answer, the globs one
// by one (scopeMatcherDirect): it indexes a label (ASCII, ≤ 256 chars) once and finds `?`
// segments by intersecting position sets, rarest character first, rejecting at once a label with
// too few of a character; both drop duplicate globs; scopeMatcher short-circuits a stars-only
// glob. None of that may change an answer: both paths are checked against the reference, on long
// labels (indexed up to 256, Shift-And past it), non-ASCII ones, and globs made from the label.

/** Labels of 0–300 chars from a tiny alphabet (long runs, many near misses), sometimes non-ASCII. */
const longText = fc.oneof(small(['a', 'b'], 300), small(['a', 'a', 'a', 'b', '0'], 300), small(['a', 'b', 'é'], 80))
/** Globs with a head, `?`-heavy middles and a tail, up to the wire's 128 chars. */
const wildGlob = fc.array(fc.constantFrom('a', 'b', '0', '?', '?', '?', '*'), { maxLength: GLOB_MAX_CHARS }).map((a) => a.join(''))

test('scopeMatcher (indexed labels) agrees with the reference on long labels and ?-heavy globs', () => {
  fc.assert(
    fc.property(longText, fc.array(wildGlob, { minLength: 1, maxLength: 4 }), (text, globs) => {
      for (const g of globs) {
        expect(scopeMatcher([g])(text)).toBe(reference(text, g))
        expect(scopeMatcherDirect([g])(text)).toBe(reference(text, g))
      }
      const expected = globs.some((g) => reference(text, g))
      return scopeMatcher(globs)(text) === expected && scopeMatcherDirect(globs)(text) === expected
    }),
    { numRuns: 1500 },
  )
})

test('scopeMatcher never rejects a label a glob made from it matches (the prefilters are only necessary conditions)', () => {
  const edit = fc.record({ at: fc.nat(), len: fc.nat({ max: 6 }), star: fc.boolean() })
  fc.assert(
    fc.property(longText, fc.array(edit, { maxLength: 40 }), fc.array(wildGlob, { maxLength: 3 }), (label, edits, others) => {
      const tokens = label.split('')
      for (const e of edits) {
        if (tokens.length === 0) break
        const at = e.at % tokens.length
        if (e.star) tokens.splice(at, Math.min(e.len, tokens.length - at), '*')
        else tokens[at] = tokens[at] === '*' ? '*' : '?'
      }
      const glob = tokens.join('')
      // The same matcher reused over other labels first: its per-label index must be rebuilt.
      const scope = [...others, glob, ...others]
      return [scopeMatcher(scope), scopeMatcherDirect(scope)].every((match) => {
        match('b'.repeat(200))
        match(label + 'x')
        return match(label)
      })
    }),
    { numRuns: 1500 },
  )
})

test('scopeMatcher: duplicates, a stars-only glob and the empty glob', () => {
  expect(scopeMatcher(['**'])('anything')).toBe(true)
  expect(scopeMatcher(['*'])('')).toBe(true)
  expect(scopeMatcher([''])('')).toBe(true)
  expect(scopeMatcher([''])('a')).toBe(false)
  expect(scopeMatcher([])('a')).toBe(false)
  expect(scopeMatcher(['a?c', 'a?c', 'x*'])('abc')).toBe(true)
})

test('the scope DFA answers like the reference; past its state cap it steps the NFA, or leaves long labels to the globs', () => {
  fc.assert(
    fc.property(fc.array(longText, { maxLength: 8 }), fc.array(wildGlob, { minLength: 1, maxLength: 16 }), (texts, globs) => {
      const dfa = scopeDfa(globs)
      for (const t of texts) {
        const answer = dfa(t)
        if (answer !== undefined) expect(answer).toBe(globs.some((g) => reference(t, g)))
        else expect(/[^\x00-\x7f]/.test(t)).toBe(true) // only non-ASCII labels, in runs this short
      }
      return true
    }),
    { numRuns: 500 },
  )
  // Globs that remember where each digit sat among a label's last characters: a state per
  // distinct digit tail, so 20,000 numbered labels fill the table; the rest are finished by
  // stepping the NFA, and the answers stay right.
  const numbered = Array.from({ length: 10 }, (_, d) => `*${d}???????`)
  const dfa = scopeDfa(numbered)
  for (let i = 0; i < 20_000; i++) {
    const label = `public:n${String(i * 7919).padStart(8, '0')}`
    expect(dfa(label)).toBe(numbered.some((g) => reference(label, g)))
  }
  // Long varied labels with a long rest past the cap: left to the globs (undefined); the scope
  // matcher, which then tries them one by one, stays right.
  const wide = Array.from({ length: 16 }, (_, d) => `*${d % 10}${'?'.repeat(20 + d)}`)
  const long = scopeDfa(wide)
  const match = scopeMatcher(wide)
  let left = 0
  let seed = 1
  for (let i = 0; i < 600; i++) {
    let label = ''
    for (let j = 0; j < 400; j++) label += String((seed = (seed * 48271) % 2147483647) % 10)
    if (long(label) === undefined) left++
    if (i % 20 === 0) expect(match(label)).toBe(wide.some((g) => reference(label, g)))
  }
  expect(left).toBeGreaterThan(0)
})
