/**
 * Property tests of the handshake URL parser (src/identity/handshake.ts): whatever is pasted,
 * it either returns a handshake whose parts are each valid or refuses with BadInput (a 400
 * naming the part) — never another error; and what formatHandshakeUrl writes reads back.
 */
import { expect, test } from 'bun:test'
import fc from 'fast-check'
import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { formatHandshakeUrl, isPodId, isPublicKey, parseHandshakeUrl, type PodId, type PublicKey } from '../../src/identity'
import { BadInput } from '../../src/lib/errors'

const SELF = randomUUID() as PodId

function publicKey(): PublicKey {
  return (generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' }) as { x: string }).x as PublicKey
}

const podId = fc.uuid({ version: 4 }).map((u) => u as PodId)
const key = fc.constant(null).map(publicKey)
/** Display names: no control or bidi-override characters, at most 64 code points, but every URL-hostile character. */
const name = fc
  .array(
    fc.oneof(
      fc.constantFrom('&', '=', '#', '%', '?', '+', ' ', '/', '"', "'", '\\', 'é', '名', '😀', '\u202e', 'key=', '&url=http://x'),
      fc.string({ maxLength: 3 }),
    ),
    { maxLength: 12 },
  )
  .map((a) => [...a.join('').replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, '')].slice(0, 64).join('').trim())
  .filter((s) => s !== '')
const url = fc.constantFrom('https://peer.tail-foo.ts.net', 'http://127.0.0.1:8765', 'https://alca.example.org/mzm', 'http://[::1]:9/prefix')

/** Parse, mapping refusals to 'refused'; anything but BadInput fails the property. */
function parse(text: string) {
  try {
    return parseHandshakeUrl(text, SELF)
  } catch (err) {
    expect(err).toBeInstanceOf(BadInput)
    return 'refused' as const
  }
}

test('format → parse round-trips ids, keys, hostile names and URLs', () => {
  fc.assert(
    fc.property(podId, key, fc.option(name, { nil: undefined }), fc.option(url, { nil: undefined }), (id, k, n, u) => {
      const hs = parse(formatHandshakeUrl({ podId: id, key: k, name: n, urls: u === undefined ? undefined : [u] }))
      expect(hs).toEqual({ podId: id, key: k, ...(n === undefined ? {} : { name: n }), ...(u === undefined ? {} : { urls: [u] }) })
    }),
    { numRuns: 300 },
  )
})

test('arbitrary text is a valid handshake or a BadInput, never a crash', () => {
  const scheme = fc.constantFrom('mzm-handshake://', 'MZM-HANDSHAKE://', 'mzm-handshake:/', 'https://', '')
  const junk = fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), fc.string({ maxLength: 5000 }))
  fc.assert(
    fc.property(scheme, fc.option(podId, { nil: undefined }), junk, (s, id, rest) => {
      const hs = parse(s + (id ?? '') + rest)
      if (hs === 'refused') return
      expect(isPodId(hs.podId)).toBe(true)
      expect(hs.podId).not.toBe(SELF)
      expect(isPublicKey(hs.key)).toBe(true)
    }),
    { numRuns: 1500 },
  )
})

test('a near-valid handshake with one part mangled is refused', () => {
  const mangle = fc.constantFrom(
    (u: string) => u.replace('key=', 'kee='),
    (u: string) => u.replace(/key=([A-Za-z0-9_-])/, 'key=$1$1'),
    (u: string) => u.replace(/key=[A-Za-z0-9_-]/, 'key=+'),
    (u: string) => u.replace(/^mzm-handshake:\/\/[0-9a-f]/, 'mzm-handshake://G'),
    (u: string) => `${u}#fragment`,
    (u: string) => `${u}&key=${publicKey()}`,
    (u: string) => `${u}&name=${encodeURIComponent('a\nb')}`,
    (u: string) => `${u}&name=${encodeURIComponent('invoice\u202egpj.exe')}`,
    (u: string) => `${u}&name=${'x'.repeat(65)}`,
    (u: string) => `${u}&url=${encodeURIComponent('javascript:alert(1)')}`,
    (u: string) => u.replace(/^mzm-handshake:\/\/[^?]+/, `mzm-handshake://${SELF}`),
  )
  fc.assert(
    fc.property(podId, key, mangle, (id, k, m) => {
      expect(parse(m(formatHandshakeUrl({ podId: id, key: k })))).toBe('refused')
    }),
    { numRuns: 300 },
  )
})
