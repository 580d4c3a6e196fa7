/** The scope glob matcher: semantics, limits, and no catastrophic backtracking. */
import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { matchesGlob, ScopeMatchers } from '../../src/scope'
import { GLOB_MAX_CHARS, SCOPE_MAX_GLOBS, scopeLimitProblem } from '../../src/protocol'

const matchers = new ScopeMatchers()
const scopeMatcher = (globs: readonly string[]) => matchers.matcher(globs)
const matchesAny = (text: string, globs: readonly string[]) => matchers.matchesAny(text, globs)

/** The textbook two-pointer wildcard match (O(label × glob)), as an independent reference. */
function twoPointer(text: string, glob: string): boolean {
  let t = 0
  let p = 0
  let starP = -1
  let starT = 0
  while (t < text.length) {
    const c = glob[p]
    if (c === '*') {
      starP = p++
      starT = t
    } else if (c === '?' || (c !== undefined && c === text[t])) {
      p++
      t++
    } else if (starP >= 0) {
      p = starP + 1
      t = ++starT
    } else {
      return false
    }
  }
  while (glob[p] === '*') p++
  return p === glob.length
}

/** The regex the old code built, safe to run on the small inputs of the property test. */
function viaRegex(text: string, glob: string): boolean {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[\\s\\S]*')
    .replace(/\?/g, '[\\s\\S]')
  return new RegExp(`^${body}$`).test(text)
}

describe('matchesGlob', () => {
  test.each([
    ['public:note', 'public:*', true],
    ['public:', 'public:*', true],
    ['public', 'public:*', false],
    ['anything at all', '*', true],
    ['', '*', true],
    ['', '?', false],
    ['a', '?', true],
    ['ab', '?', false],
    ['public:x', 'public:?', true],
    ['team:ops:db', 'team:*:db', true],
    ['team:ops:dbx', 'team:*:db', false],
    ['team:db', 'team:*:db', false],
    ['aXbXc', '*a*b*c*', true],
    ['abcabd', '*abd', true],
    ['abcab', '*abd', false],
    ['a.b', 'a.b', true],
    ['axb', 'a.b', false], // regex metacharacters are literal
    ['a+b(c)', 'a+b(c)', true],
    ['[x]', '[x]', true],
    ['x', '[x]', false],
    ['a\\b', 'a\\b', true],
    ['line\nbreak', 'line*break', true], // `*` spans any character
    ['aaa', 'a*a*a', true],
    ['aa', 'a*a*a', false],
    ['abab', 'a?a?', true],
    ['abba', '*b?a', true],
    ['xyz', 'xyz', true],
    ['xyz', 'xy', false],
    ['xy', 'xyz', false],
  ])('%j against %j → %p', (text, glob, expected) => {
    expect(matchesGlob(text, glob)).toBe(expected)
    expect(twoPointer(text, glob)).toBe(expected) // the reference agrees with the table
  })

  test('agrees with the two-pointer reference and the regex on random input', () => {
    const alphabet = fc.constantFrom('a', 'b', '*', '?', ':')
    const textChars = fc.constantFrom('a', 'b', ':', '*', '?')
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 12 }), fc.string({ unit: textChars, maxLength: 16 }), (glob, text) => {
        const got = matchesGlob(text, glob)
        expect(got).toBe(twoPointer(text, glob))
        expect(got).toBe(viaRegex(text, glob))
      }),
      { numRuns: 5000 },
    )
  })

  test('16 stars and a character that never matches, against a 10 kB label: false, and it returns', () => {
    const label = 'a'.repeat(10_000)
    const glob = `${'*'.repeat(16)}#`
    expect(matchesGlob(label, glob)).toBe(false)
    expect(matchesGlob(label, `${'*a'.repeat(16)}#`)).toBe(false)
    expect(matchesGlob(label, `${'*a'.repeat(16)}`)).toBe(true)
    // The row-1 attack pattern, which froze the old regex for 27 s on a short label.
    expect(matchesGlob('*'.repeat(40), '******************#')).toBe(false)
  })

  test('a worst-case scope over many labels finishes (each match bounded by label × glob)', () => {
    const globs = Array.from({ length: SCOPE_MAX_GLOBS }, (_, i) => `${'*a?'.repeat(42)}${String.fromCharCode(0x30 + i)}`.slice(-GLOB_MAX_CHARS))
    expect(scopeLimitProblem(globs)).toBeNull()
    const match = scopeMatcher(globs)
    let hits = 0
    for (let i = 0; i < 2000; i++) if (match(`${'ab'.repeat(120)}-${i}`)) hits++
    expect(hits).toBe(0)
  })

  test('matchesAny and scopeMatcher: any glob of the list', () => {
    expect(matchesAny('team:x', ['public:*', 'team:*'])).toBe(true)
    expect(matchesAny('private:x', ['public:*', 'team:*'])).toBe(false)
    expect(matchesAny('x', [])).toBe(false)
    expect(scopeMatcher(['public:*', 'team:?'])('team:a')).toBe(true)
    expect(scopeMatcher(['public:*', 'team:?'])('team:ab')).toBe(false)
  })
})
