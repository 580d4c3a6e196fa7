/** The panel's shown(): bidi overrides, isolates, marks and controls from the server become visible text. */
import { expect, test } from 'bun:test'
import { shown } from '../../src/http/panel/shown.js'
import { visible } from '../../src/lib/visible'

test.each([
  ['public:\u202egpj.exe', 'public:\\u202egpj.exe'],
  ['\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069', '\\u202a\\u202b\\u202c\\u202d\\u2066\\u2067\\u2068\\u2069'],
  ['\u200eltr\u200frtl\u061c', '\\u200eltr\\u200frtl\\u061c'],
  ['a\x1b]52;c;x\x07\u009b', 'a\\x1b]52;c;x\\x07\\x9b'],
  ['hidden\u{e0041}\u200b', 'hidden\\u{e0041}\\u200b'],
  ['line 1\n\tline 2 東京 👨‍👩‍👧', 'line 1\n\tline 2 東京 👨‍👩‍👧'],
])('%j is shown as %j, the same as the CLI shows it', (input, out) => {
  expect(shown(input)).toBe(out)
  expect(shown(input)).toBe(visible(input, { multiline: true }))
})
