import { expect, test } from 'bun:test'
import { BadInput } from '../../src/lib/errors'
import { isPodId, parsePodId, shortId } from '../../src/identity'

const ID = '6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f'

test('parsePodId trims and accepts a lowercase UUID', () => {
  expect(parsePodId(`  ${ID}\n`)).toBe(ID as never)
  expect(isPodId(ID)).toBe(true)
})

test.each([
  ['uppercase', ID.toUpperCase(), /use lowercase/],
  ['path traversal', '../../etc', /"\.\.\/\.\.\/etc"/],
  ['empty', '', /got ""/],
  ['no dashes', ID.replaceAll('-', ''), /lowercase UUID/],
  ['with a suffix', `${ID}/x`, /lowercase UUID/],
  ['non-hex', 'g356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f', /lowercase UUID/],
])('parsePodId refuses %s', (_name, text, message) => {
  expect(() => parsePodId(text)).toThrow(BadInput)
  expect(() => parsePodId(text)).toThrow(/^peer id must be a lowercase UUID, got /)
  expect(() => parsePodId(text)).toThrow(message)
  expect(isPodId(text)).toBe(false)
})

test('shortId is the first 8 hex digits', () => {
  expect(shortId(ID)).toBe('6356db37')
})
