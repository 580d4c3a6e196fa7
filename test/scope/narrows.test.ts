import { expect, test } from 'bun:test'
import { matchesGlob, scopeNarrows } from '../../src/scope'

test('a scope that only takes globs away, or keeps them, narrows', () => {
  expect(scopeNarrows(['public:a*', 'public:b*'], ['public:a*'])).toBe(true)
  expect(scopeNarrows(['public:a*'], ['public:a*'])).toBe(true)
  expect(scopeNarrows(['public:a*', 'public:b*'], ['public:b*', 'public:a*'])).toBe(true)
})

test('a glob inside a prefix glob of the old scope is covered', () => {
  expect(scopeNarrows(['*'], ['public:*', 'auto:x?y*'])).toBe(true)
  expect(scopeNarrows(['public:*'], ['public:bench*', 'public:exact', 'public:a?c'])).toBe(true)
})

test('anything that may add labels does not narrow', () => {
  expect(scopeNarrows(['public:a*'], ['public:a*', 'public:b*'])).toBe(false)
  expect(scopeNarrows(['public:a*'], ['public:*'])).toBe(false)
  expect(scopeNarrows(['public:a*'], ['*'])).toBe(false)
  // `public:?x*` may match `public:bx…`, outside `public:a*`: its literal start is only `public:`.
  expect(scopeNarrows(['public:a*'], ['public:?x*'])).toBe(false)
  // Not a prefix glob: `*:notes` does not cover `public:*`'s labels, nor `x*y` cover `xy*`.
  expect(scopeNarrows(['*:notes'], ['public:notes'])).toBe(false)
  expect(scopeNarrows(['x*y'], ['xy*'])).toBe(false)
  expect(scopeNarrows([], ['public:a*'])).toBe(false)
})

test('whenever it says narrows, every label the new scope matches the old one matched (sampled)', () => {
  const globs = ['*', 'public:*', 'public:a*', 'public:ab*', 'public:a?', 'public:?b*', 'auto:*', 'public:a', 'p*c', 'public:*b']
  const labels = ['public:a', 'public:ab', 'public:abc', 'public:xb', 'public:ax', 'auto:q', 'pc', 'public:c', 'public:b']
  for (const x of globs)
    for (const y of globs)
      for (const z of globs) {
        if (!scopeNarrows([x, y], [z])) continue
        for (const l of labels) if (matchesGlob(l, z)) expect([x, y].some((g) => matchesGlob(l, g))).toBe(true)
      }
})
