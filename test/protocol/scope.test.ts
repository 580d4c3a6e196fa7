/** The scope limits of the wire (16 globs of 1..128 characters), for what peers send and what operators configure. */
import { describe, expect, test } from 'bun:test'
import * as v from 'valibot'
import { GLOB_MAX_CHARS, SCOPE_MAX_GLOBS, scopeLimitProblem, WireScopeSchema } from '../../src/protocol'

describe('scopeLimitProblem', () => {
  test('the contract limits: 16 globs of 1..128 characters', () => {
    expect(SCOPE_MAX_GLOBS).toBe(16)
    expect(GLOB_MAX_CHARS).toBe(128)
    expect(scopeLimitProblem(['public:*'])).toBeNull()
    expect(scopeLimitProblem(Array(16).fill('a'.repeat(128)))).toBeNull()
    expect(scopeLimitProblem(Array(17).fill('a'))).toBe('has 17 globs (at most 16)')
    expect(scopeLimitProblem(['ok', 'a'.repeat(129)])).toBe('glob 2 is 129 characters long (at most 128)')
    expect(scopeLimitProblem(['ok', ''])).toBe('glob 2 must not be empty')
    expect(scopeLimitProblem([])).toBe('must have at least one glob')
  })

  test('WireScopeSchema: one glob or a list, always a list after parsing, within the limits', () => {
    expect(v.parse(WireScopeSchema, 'public:*')).toEqual(['public:*'])
    expect(v.parse(WireScopeSchema, ['a:*', 'b:?'])).toEqual(['a:*', 'b:?'])
    expect(v.safeParse(WireScopeSchema, Array(17).fill('a')).success).toBe(false)
    expect(v.safeParse(WireScopeSchema, 'x'.repeat(129)).success).toBe(false)
    expect(v.safeParse(WireScopeSchema, 42).success).toBe(false)
  })
})
