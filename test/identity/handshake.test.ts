import { describe, expect, test } from 'bun:test'
import { BadInput } from '../../src/lib/errors'
import { formatHandshakeUrl, parseHandshakeUrl, type PodId, type PublicKey } from '../../src/identity'

const ID = '6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f' as PodId
const SELF = '11111111-2222-4333-8444-555555555555' as PodId
const KEY = 'n_RzHuTRHYvqrJ0dN44D_kgQ1esIx06jVNu7puWYDHQ' as PublicKey
const base = `mzm-handshake://${ID}?key=${KEY}`

describe('formatHandshakeUrl / parseHandshakeUrl', () => {
  test('round trip with URL-encoded name and url', () => {
    const url = formatHandshakeUrl({ podId: ID, key: KEY, name: 'alca 7G & co', urls: ['https://peer.tail-foo.ts.net/mzm'] })
    expect(url).toStartWith(`mzm-handshake://${ID}?key=${KEY}&name=alca%207G%20%26%20co&url=https%3A%2F%2F`)
    expect(parseHandshakeUrl(url, SELF)).toEqual({
      podId: ID,
      key: KEY,
      name: 'alca 7G & co',
      urls: ['https://peer.tail-foo.ts.net/mzm'],
    })
  })

  test('four url= parameters, in order, pct-encoded (path prefix kept)', () => {
    const urls = ['https://alca.tail-foo.ts.net', 'http://192.168.1.5:8765', 'https://alca.example.org/mzm', 'http://[fd7a:115c:a1e0::5]:8765']
    const text = formatHandshakeUrl({ podId: ID, key: KEY, urls })
    expect(text.match(/&url=/g)).toHaveLength(4)
    expect(text).not.toContain('https://')
    expect(parseHandshakeUrl(text, SELF)).toEqual({ podId: ID, key: KEY, urls })
  })

  test('five url= parameters are refused; the formatter never writes more than four', () => {
    const five = Array.from({ length: 5 }, (_, i) => `&url=${encodeURIComponent(`http://h${i}.example:8765`)}`).join('')
    expect(() => parseHandshakeUrl(`${base}${five}`, SELF)).toThrow(/has 5 url= parameters \(at most 4\)/)
    const written = formatHandshakeUrl({ podId: ID, key: KEY, urls: Array.from({ length: 5 }, (_, i) => `http://h${i}.example`) })
    expect(parseHandshakeUrl(written, SELF).urls).toHaveLength(4)
  })

  test('a bad url among several is refused, naming which one', () => {
    const text = `${base}&url=${encodeURIComponent('https://ok.example')}&url=${encodeURIComponent('https://x.example/?q=1')}`
    expect(() => parseHandshakeUrl(text, SELF)).toThrow(/handshake URL url #2 must not have a query/)
  })

  test('unknown parameters are ignored, even repeated ones, alongside urls', () => {
    const text = `${base}&v=3&v=4&future=x&url=${encodeURIComponent('https://a.example')}`
    expect(parseHandshakeUrl(text, SELF)).toEqual({ podId: ID, key: KEY, urls: ['https://a.example'] })
  })

  test('only id and key are required; surrounding whitespace and unknown parameters are ignored', () => {
    expect(parseHandshakeUrl(`  ${base}&v=2\n`)).toEqual({ podId: ID, key: KEY })
    expect(parseHandshakeUrl(`mzm-handshake://${ID}/?key=${KEY}&name=`)).toEqual({ podId: ID, key: KEY })
  })
})

describe('a handshake pasted HTML-escaped (chat apps, mail)', () => {
  const url = formatHandshakeUrl({ podId: ID, key: KEY, name: 'pod-b', urls: ['http://100.64.0.2:8765', 'https://pod-b.tail-foo.ts.net'] })
  const expected = { podId: ID, key: KEY, name: 'pod-b', urls: ['http://100.64.0.2:8765', 'https://pod-b.tail-foo.ts.net'] }

  test.each([
    ['&amp;', '&amp;'],
    ['&#38;', '&#38;'],
    ['&#x26;', '&#x26;'],
    ['&AMP;', '&AMP;'],
  ])('%s between parameters reads as &: name and urls kept', (_label, escaped) => {
    expect(parseHandshakeUrl(url.replaceAll('&', escaped), SELF)).toEqual(expected)
  })

  test('a name that holds & itself is still read whole', () => {
    const amp = formatHandshakeUrl({ podId: ID, key: KEY, name: 'alca & co' })
    expect(parseHandshakeUrl(amp.replaceAll('&', '&amp;'), SELF).name).toBe('alca & co')
  })

  test.each([
    ['a half-escaped separator', `${base}&amp%3Bname=pod-b`, /parameter "amp%3Bname" can't be read/],
    ['a separator escaped twice', `${base}&amp;amp;name=pod-b`, /parameter "amp;name" can't be read/],
    ['a parameter with no value', `${base}&amp`, /parameter amp has no value/],
    ['broken percent-encoding', `${base}&name=pod%2`, /name= can't be read: its percent-encoding is broken/],
  ])('%s is refused naming the parameter, never half-accepted', (_label, text, message) => {
    expect(() => parseHandshakeUrl(text, SELF)).toThrow(BadInput)
    expect(() => parseHandshakeUrl(text, SELF)).toThrow(message)
  })
})

describe('parseHandshakeUrl refuses, naming the part', () => {
  const cases: [string, string, RegExp][] = [
    ['bad scheme', `https://${ID}?key=${KEY}`, /handshake URL must start with mzm-handshake:\/\//],
    ['no scheme', `${ID}?key=${KEY}`, /must start with mzm-handshake:\/\//],
    ['path traversal id', `mzm-handshake://../../etc?key=${KEY}`, /pod id must be a lowercase UUID, got "\.\.\/\.\.\/etc"/],
    ['encoded traversal id', `mzm-handshake://..%2F..%2Fetc?key=${KEY}`, /pod id must be a lowercase UUID/],
    ['uppercase id', `mzm-handshake://${ID.toUpperCase()}?key=${KEY}`, /pod id must be a lowercase UUID.*lowercase/],
    ['id with userinfo', `mzm-handshake://x@${ID}?key=${KEY}`, /pod id must be a lowercase UUID/],
    ['id with a path', `mzm-handshake://${ID}/x?key=${KEY}`, /pod id must be a lowercase UUID/],
    ['empty id', `mzm-handshake://?key=${KEY}`, /pod id must be a lowercase UUID/],
    ['our own id', `mzm-handshake://${SELF}?key=${KEY}`, /this is our own handshake URL/],
    ['missing key', `mzm-handshake://${ID}`, /no key= parameter/],
    ['empty key', `mzm-handshake://${ID}?key=`, /no key= parameter/],
    ['short key', `mzm-handshake://${ID}?key=${KEY.slice(0, 40)}`, /key is too short \(40 characters, expected 43\)/],
    ['long key', `mzm-handshake://${ID}?key=${KEY}AAAA`, /key is too long \(47 characters/],
    ['bad key alphabet', `mzm-handshake://${ID}?key=${KEY.slice(0, 42)}%2B`, /key is not base64url/],
    ['two keys', `${base}&key=${KEY}`, /more than one key= parameter/],
    ['name with a newline', `${base}&name=a%0Ab`, /name must not contain control characters or line breaks/],
    ['name too long', `${base}&name=${'x'.repeat(65)}`, /name is 65 characters long/],
    ['url with a newline', `${base}&url=https%3A%2F%2Fa%0A.b`, /url must not contain whitespace/],
    ['url not http', `${base}&url=file%3A%2F%2F%2Fetc%2Fpasswd`, /url must start with http:\/\/ or https:\/\//],
    ['url with credentials', `${base}&url=https%3A%2F%2Fu%3Ap%40host`, /url must not contain credentials/],
    ['fragment', `${base}#x`, /fragment/],
  ]
  test.each(cases)('%s', (_name, text, message) => {
    expect(() => parseHandshakeUrl(text, SELF)).toThrow(BadInput)
    expect(() => parseHandshakeUrl(text, SELF)).toThrow(message)
  })
})
