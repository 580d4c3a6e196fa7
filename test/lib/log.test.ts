/** logfmt lines: a peer's text in a value never puts a raw ESC, C1 or bidi override on stderr. */
import { expect, test } from 'bun:test'
import { formatLogfmt } from '../../src/lib/log'

test.each([
  ['\x1b]52;c;aGk=\x07', '"\\u001b]52;c;aGk=\\u0007"'],
  ['unauthorized\u009b2J', '"unauthorized\\u009b2J"'],
  ['a\u202eb', '"a\\u202eb"'],
  ['plain', 'plain'],
  ['two words', '"two words"'],
])('%j is quoted and escaped', (value, shown) => {
  expect(formatLogfmt({ err: value })).toBe(`err=${shown}`)
})
