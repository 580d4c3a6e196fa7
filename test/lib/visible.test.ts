/** visible(): what a peer's text may contain is printed as escapes, never raw; the rest untouched. */
import { describe, expect, test } from 'bun:test'
import { jsonVisible, visible } from '../../src/lib/visible'

describe('visible', () => {
  test.each([
    ['ESC and OSC 52', 'a\x1b]52;c;aGk=\x07b', 'a\\x1b]52;c;aGk=\\x07b'],
    ['C1 CSI and DEL', 'x\u009b2Jy\x7f', 'x\\x9b2Jy\\x7f'],
    ['bidi override and isolates', 'txt\u202egpj.exe\u2066\u2069', 'txt\\u202egpj.exe\\u2066\\u2069'],
    ['marks, embeddings, ALM', '\u200e\u200f\u202a\u202b\u202c\u202d\u061c', '\\u200e\\u200f\\u202a\\u202b\\u202c\\u202d\\u061c'],
    ['invisible characters', 'a\u200bb\u2060c\ufeffd\u{e0041}', 'a\\u200bb\\u2060c\\ufeffd\\u{e0041}'],
    ['line breaks on one line', 'a\nb\r\tc\u2028', 'a\\nb\\r\\tc\\u2028'],
    ['ordinary text untouched', 'héllo 東京 👨‍👩‍👧 C:\\path', 'héllo 東京 👨‍👩‍👧 C:\\path'],
  ])('%s', (_, input, shown) => {
    expect(visible(input)).toBe(shown)
  })

  test('multiline keeps newlines and tabs but never CR or escapes', () => {
    expect(visible('l1\n\tl2\r\x1b[2K', { multiline: true })).toBe('l1\n\tl2\\r\\x1b[2K')
  })

  test('jsonVisible: same value, no raw C1 or bidi', () => {
    const value = { a: 'x\u009b\u202e\n\x1b\u{e0041}y', b: [1, 'é'] }
    const text = jsonVisible(JSON.stringify(value, null, 2))
    expect(text).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/)
    expect(JSON.parse(text)).toEqual(value)
  })
})
