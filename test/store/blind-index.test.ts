import { describe, expect, test } from 'bun:test'
import { randomBytes } from 'node:crypto'
import { createBlindIndex, tokenize } from '../../src/store/blind-index'

describe('tokenize', () => {
  test.each([
    ['Hello, World!', ['hello', 'world']],
    ['Café CAFÉ cafe', ['cafe', 'cafe', 'cafe']],
    ['ﬁnd the ①', ['find', 'the', '1']],
    ['snake_case-and.dots', ['snake', 'case', 'and', 'dots']],
    ['Привет мир 2026', ['привет', 'мир', '2026']],
    ['   ', []],
    ['"OR" AND NEAR(*)', ['or', 'and', 'near']],
  ])('%p', (text, tokens) => {
    expect(tokenize(text)).toEqual(tokens)
  })
})

describe('blind index', () => {
  test('x + 20 hex digits, deterministic per key, different across keys', () => {
    const key = randomBytes(32)
    const a = createBlindIndex(key)
    const b = createBlindIndex(key)
    const other = createBlindIndex(randomBytes(32))
    expect(a.blind('zebra')).toMatch(/^x[0-9a-f]{20}$/)
    expect(a.blind('zebra')).toBe(b.blind('zebra'))
    expect(a.blind('zebra')).not.toBe(a.blind('zebras'))
    expect(a.blind('zebra')).not.toBe(other.blind('zebra'))
  })

  test('blindText keeps order and repeats, and never contains the words', () => {
    const b = createBlindIndex(randomBytes(32))
    const text = b.blindText('Zebra likes zebra; ZEBRA!')
    const parts = text.split(' ')
    expect(parts).toHaveLength(4)
    expect(parts[0]).toBe(b.blind('zebra'))
    expect(parts[2]).toBe(parts[0]!)
    expect(parts[1]).toBe(b.blind('likes'))
    expect(text).not.toContain('zebra')
  })
})
