import { describe, expect, test } from 'bun:test'
import { createUuidv7 } from '../../src/runtime/_uuidv7'
import { uuidv7 } from '../../src/runtime'

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const msOf = (id: string) => Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16)

describe('createUuidv7 (the Deno implementation)', () => {
  test('version 7, RFC 9562 variant, the given millisecond in the first 48 bits', () => {
    const gen = createUuidv7()
    for (const ms of [0, 1, 1_700_000_000_123, 2 ** 48 - 1]) {
      const id = gen(ms)
      expect(id).toMatch(V7)
      expect(msOf(id)).toBe(ms)
    }
  })

  test('ids made in one millisecond are unique and sort in creation order', () => {
    const gen = createUuidv7()
    const ids = Array.from({ length: 2000 }, () => gen(1_700_000_000_000))
    expect(new Set(ids).size).toBe(ids.length)
    expect([...ids].sort()).toEqual(ids)
  })

  test('later milliseconds sort later', () => {
    const gen = createUuidv7()
    const a = gen(1000)
    const b = gen(1001)
    expect(a < b).toBe(true)
  })

  test('with fixed randomness the layout is exact: counter seed from rand_a, variant bits forced', () => {
    const gen = createUuidv7((buf) => buf.fill(0xff))
    // ms 0x018bcfe56800; counter seed = 0xffff & 0x7ff = 0x7ff; then 0x800 in the same ms.
    expect(gen(0x018bcfe56800)).toBe('018bcfe5-6800-77ff-bfff-ffffffffffff')
    expect(gen(0x018bcfe56800)).toBe('018bcfe5-6800-7800-bfff-ffffffffffff')
  })

  test("random bytes are drawn for 256 ids at a time and no id reuses another one's", () => {
    let draws = 0
    let fill = 0
    const gen = createUuidv7((buf) => {
      draws++
      for (let i = 0; i < buf.length; i++) buf[i] = fill++ & 0xff
    })
    const ids = Array.from({ length: 600 }, (_, i) => gen(1000 + i)) // a new ms each time: rand_a is the seed
    expect(draws).toBe(3)
    // id i took bytes 16i..16i+15 of the stream, so its node field is bytes 16i+10..16i+15.
    const hex = (n: number) => (n & 0xff).toString(16).padStart(2, '0')
    const node = (i: number) => Array.from({ length: 6 }, (_, k) => hex(16 * i + 10 + k)).join('')
    expect(ids.every((id, i) => id.endsWith(`-${node(i)}`))).toBe(true)
  })

  test('past 4096 ids in one millisecond the ids stay unique (counter reseeded)', () => {
    const gen = createUuidv7()
    const ids = Array.from({ length: 5000 }, () => gen(42))
    expect(new Set(ids).size).toBe(5000)
    expect(ids.every((id) => V7.test(id) && msOf(id) === 42)).toBe(true)
  })
})

test('the selected runtime makes the same kind of id', () => {
  const id = uuidv7(1_700_000_000_000)
  expect(id).toMatch(V7)
  expect(msOf(id)).toBe(1_700_000_000_000)
})
