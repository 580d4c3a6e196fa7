import { expect, test } from 'bun:test'
import { BadInput } from '../../src/lib/errors'
import { normalizeScope, peerUrls, type PeerEntry, type PodId } from '../../src/identity'
import { formatPeersToml, parsePeersToml, peerUrlProblem } from '../../src/identity/peers-toml'
import { ID_A, ID_B } from './_keypair'

const SELF = '11111111-2222-4333-8444-555555555555' as PodId

test('format → parse round-trips; one-glob scopes are written as a string', () => {
  const entries: PeerEntry[] = [
    { id: ID_A, name: 'alca-7G', url: 'https://peer.tail-foo.ts.net', sync: true, scope: ['public:*'] },
    { id: ID_B, name: '', url: `mzm-rendezvous://${ID_B}`, sync: false, scope: ['ops:*', 'bug:*'] },
  ]
  const text = formatPeersToml(entries, SELF)
  expect(text).toContain(`[peers.${ID_A}]\nname = "alca-7G"\nurl = "https://peer.tail-foo.ts.net"\nsync = true\nscope = "public:*"\n`)
  expect(text).toContain('scope = [ "ops:*", "bug:*" ]')
  expect(parsePeersToml(text, SELF)).toEqual(entries)
})

test('an empty registry is just the header comment', () => {
  const text = formatPeersToml([], SELF)
  expect(text.split('\n').every((l) => l === '' || l.startsWith('#'))).toBe(true)
  expect(parsePeersToml(text, SELF)).toEqual([])
})

test('formatPeersToml refuses entries it could not write safely', () => {
  expect(() => formatPeersToml([{ id: ID_A, name: 'a\nb', url: '', sync: true, scope: ['*'] }], SELF)).toThrow(BadInput)
  expect(() => formatPeersToml([{ id: '../x' as PodId, name: '', url: '', sync: true, scope: ['*'] }], SELF)).toThrow()
})

test('normalizeScope', () => {
  expect(normalizeScope('public:*')).toEqual(['public:*'])
  expect(normalizeScope(['a:*', 'b:*'])).toEqual(['a:*', 'b:*'])
  expect(() => normalizeScope([])).toThrow(/at least one glob/)
  expect(() => normalizeScope([''])).toThrow(/must not be empty/)
})

test('peer URLs', () => {
  expect(peerUrlProblem(ID_A, '')).toBeNull()
  expect(peerUrlProblem(ID_A, 'http://127.0.0.1:8765')).toBeNull()
  expect(peerUrlProblem(ID_A, `mzm-rendezvous://${ID_A}`)).toBeNull()
  expect(peerUrlProblem(ID_A, `mzm-rendezvous://${ID_B}`)).toMatch(/this peer's own id/)
  expect(peerUrlProblem(ID_A, `mzm-rendezvous://${ID_A}/x`)).toMatch(/this peer's own id/)
})

test('scope limits of the contract (16 globs of 1..128 characters) hold in peers.toml', () => {
  const table = (scope: string) => `[peers.${ID_A}]\nurl = ""\nscope = ${scope}\n`
  const ok = JSON.stringify(Array.from({ length: 16 }, (_, i) => `g${i}:${'x'.repeat(120)}`))
  expect(parsePeersToml(table(ok), SELF)[0]!.scope).toHaveLength(16)
  const tooMany = JSON.stringify(Array.from({ length: 17 }, (_, i) => `g${i}:*`))
  expect(() => parsePeersToml(table(tooMany), SELF)).toThrow(`peers.${ID_A}.scope: has 17 globs (at most 16)`)
  expect(() => parsePeersToml(table(JSON.stringify('x'.repeat(129))), SELF)).toThrow('is 129 characters long (at most 128)')
  expect(() => normalizeScope(Array(17).fill('a'))).toThrow('peer scope has 17 globs (at most 16)')
})

test('url may be a list tried in order: written as an array, a one-element list as a string, [] as ""', () => {
  const urls = ['https://alca.tail-foo.ts.net', 'https://alca.example.org/mzm', `mzm-rendezvous://${ID_A}`]
  const text = formatPeersToml([{ id: ID_A, name: '', url: urls, sync: true, scope: ['public:*'] }], SELF)
  expect(text).toContain(`url = [ "https://alca.tail-foo.ts.net", "https://alca.example.org/mzm", "mzm-rendezvous://${ID_A}" ]`)
  expect(parsePeersToml(text, SELF)[0]!.url).toEqual(urls)
  const table = (url: string) => parsePeersToml(`[peers.${ID_A}]\nurl = ${url}\n`, SELF)[0]!.url
  expect(table('["http://a:1"]')).toBe('http://a:1')
  expect(table('[]')).toBe('')
  expect(peerUrls({ url: urls })).toEqual(urls)
  expect(peerUrls({ url: '' })).toEqual([])
})

test('a url list is refused for a bad, empty or repeated entry, another id, or more than 8', () => {
  expect(peerUrlProblem(ID_A, ['https://a.example', 'https://a.example/?x'])).toMatch(/^#2 must not have a query/)
  expect(peerUrlProblem(ID_A, ['https://a.example', ''])).toMatch(/#2 is empty/)
  expect(peerUrlProblem(ID_A, ['https://a.example', 'https://a.example'])).toMatch(/lists a URL twice/)
  expect(peerUrlProblem(ID_A, ['https://a.example', `mzm-rendezvous://${ID_B}`])).toMatch(/#2 must be mzm-rendezvous/)
  expect(
    peerUrlProblem(
      ID_A,
      Array.from({ length: 9 }, (_, i) => `http://h${i}:1`),
    ),
  ).toMatch(/lists 9 URLs \(at most 8\)/)
  expect(() => parsePeersToml(`[peers.${ID_A}]\nurl = ["http://a:1", 3]\n`, SELF)).toThrow(/url/)
})
