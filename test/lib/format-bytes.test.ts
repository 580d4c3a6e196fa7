import { expect, test } from 'bun:test'
import { formatBytes } from '../../src/lib/format-bytes'

test('formatBytes: bytes under a KiB as they are, then one decimal in the largest unit that fits', () => {
  expect(formatBytes(0)).toBe('0 B')
  expect(formatBytes(1023)).toBe('1023 B')
  expect(formatBytes(1536)).toBe('1.5 KiB')
  expect(formatBytes(12.3 * 1024 * 1024)).toBe('12.3 MiB')
  expect(formatBytes(5 * 1024 ** 5)).toBe('5120.0 TiB')
})

test('formatBytes short: no decimal from 10 units up, for progress lines that update in place', () => {
  expect(formatBytes(1536, { short: true })).toBe('1.5 KiB')
  expect(formatBytes(12.3 * 1024 * 1024, { short: true })).toBe('12 MiB')
})
