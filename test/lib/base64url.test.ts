/**
 * base64url (the wire's keys, tokens and MACs) gives Buffer's text and bytes exactly, whichever
 * way the runtime encodes: every length, views into larger buffers, and the odd tails a peer could
 * send (a lone character past a group, padding bits set).
 */
import { expect, test } from 'bun:test'
import { fromBase64url, toBase64url } from '../../src/lib/base64url'

test('encodes and decodes as Buffer does, at every length up to 200 and from a view', () => {
  for (let n = 0; n <= 200; n++) {
    const bytes = crypto.getRandomValues(new Uint8Array(n))
    const text = Buffer.from(bytes).toString('base64url')
    expect(toBase64url(bytes)).toBe(text)
    const wide = new Uint8Array(n + 10)
    wide.set(bytes, 5)
    expect(toBase64url(wide.subarray(5, 5 + n))).toBe(text)
    expect(fromBase64url(text)).toEqual(bytes)
  }
})

test('odd tails decode as Buffer decodes them; anything outside the alphabet or padded is refused', () => {
  for (const s of ['', 'A', 'AA', 'AAA', 'AAAAA', 'AB', 'ABC', 'AR', 'AQJ', '_-_-', '_']) {
    expect(fromBase64url(s)).toEqual(new Uint8Array(Buffer.from(s, 'base64url')))
  }
  for (const s of ['AA==', 'A+B/', 'AA AA', 'é']) expect(fromBase64url(s)).toBeNull()
})
