/** The fallback width (used under Deno) against Bun.stringWidth, on the text the CLI prints. */
import { expect, test } from 'bun:test'
import fc from 'fast-check'
import { stringWidth } from '../../src/runtime/_string-width'

const SAMPLES = [
  '',
  'abc',
  'public:notes/2026',
  'é',
  'e\u0301',
  'café ☕ 東京',
  '日本語',
  '한국어',
  'ｶ',
  'ａｂ',
  '𠀀',
  '😀',
  '👍🏽',
  '👨‍👩‍👧',
  '🇫🇷',
  '🇦',
  '❤️',
  '❤',
  '☀',
  '☀️',
  '⌚',
  '#️⃣',
  '©',
  '½',
  '→',
  'Ω',
  'ก่',
  '\t',
  '\u0007',
  '\u200b',
  '\u00ad',
  '\u2060',
  '\ufe0f',
  '\u{E0001}',
  'a\u200db',
  '\x1b[31mred\x1b[0m',
  '\x1b]8;;http://x\x07link\x1b]8;;\x07',
  'http://[::1]:8787/peer',
]

test.each(SAMPLES.map((s) => [JSON.stringify(s), s]))('%s is as wide as Bun says', (_name, s) => {
  expect(stringWidth(s)).toBe(Bun.stringWidth(s))
})

test('mixed strings of ASCII, accents, CJK, Hangul, emoji and escapes agree with Bun', () => {
  const pieces = ['a', 'Z', ' ', '-', 'é', 'e\u0301', '東', '한', 'ｶ', '😀', '👍🏽', '🇫🇷', '❤️', '\x1b[1m', '\x1b[0m', '\u200b']
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 30 }), (parts) => {
      const s = parts.join('')
      expect(stringWidth(s)).toBe(Bun.stringWidth(s))
    }),
    { numRuns: 500 },
  )
})
