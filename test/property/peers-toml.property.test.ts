/**
 * Property tests of peers.toml writing and reading (src/identity/peers-toml.ts) with hostile
 * names, URLs and scopes: whatever the entries, formatPeersToml either refuses them with
 * BadInput or writes text that parsePeersToml reads back as exactly those entries — no name
 * or glob can smuggle in a table, a key or a second peer.
 */
import { expect, test } from 'bun:test'
import fc from 'fast-check'
import { randomUUID } from 'node:crypto'
import type { PeerEntry, PodId } from '../../src/identity'
import { formatPeersToml, parsePeersToml } from '../../src/identity/peers-toml'
import { BadInput } from '../../src/lib/errors'

const SELF = randomUUID() as PodId

/** TOML- and terminal-hostile fragments: quotes, escapes, newlines, table headers, bidi. */
const hostile = fc.constantFrom(
  '"',
  "'",
  '\\',
  '\\"',
  '"""',
  "'''",
  '\n',
  '\r\n',
  '[peers.x]',
  `\n[peers.${randomUUID()}]\nsync = true\n`,
  'url = "http://evil"',
  '#',
  '=',
  '\u0000',
  '\u001b[2J',
  '\u202e',
  '\u2028',
  '\t',
  ']',
  '}',
  'é',
  '😀',
)
const text = (max: number) =>
  fc.array(fc.oneof(hostile, fc.string({ maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 4 })), { maxLength: max }).map((a) => a.join(''))
const url = fc.oneof(
  fc.constantFrom('', 'https://peer.tail-foo.ts.net', 'http://127.0.0.1:8765/mzm', 'http://[::1]:9'),
  text(4).map((t) => `https://host.example/${t}`),
  text(4),
)
const entry = fc.record({
  id: fc.oneof(
    { weight: 9, arbitrary: fc.uuid({ version: 4 }) },
    { weight: 1, arbitrary: fc.constantFrom('../x', 'ABCDEF00-0000-4000-8000-000000000000', '') },
  ),
  name: fc.oneof(text(5), fc.string({ maxLength: 64 })),
  url,
  sync: fc.boolean(),
  scope: fc.array(fc.oneof(fc.constantFrom('public:*', '*', 'ops:*'), text(3)), { minLength: 0, maxLength: 18 }),
})

test('format → parse is the identity, or formatting refuses with BadInput', () => {
  let written = 0
  fc.assert(
    fc.property(fc.uniqueArray(entry, { selector: (e) => e.id, maxLength: 4 }), (raw) => {
      const entries = raw as PeerEntry[]
      let out: string
      try {
        out = formatPeersToml(entries, SELF)
      } catch (err) {
        expect(err).toBeInstanceOf(BadInput)
        return
      }
      written++
      expect(parsePeersToml(out, SELF)).toEqual(entries.map((e) => ({ id: e.id, name: e.name, url: e.url, sync: e.sync, scope: e.scope })))
    }),
    { numRuns: 600 },
  )
  // Not vacuous: many hostile-but-valid entry sets were actually written and read back.
  expect(written).toBeGreaterThan(50)
})

test("a rendezvous URL round-trips only for the peer's own id", () => {
  fc.assert(
    fc.property(fc.uuid({ version: 4 }), fc.uuid({ version: 4 }), (id, other) => {
      const mine = [{ id: id as PodId, name: '', url: `mzm-rendezvous://${id}`, sync: true, scope: ['public:*'] }]
      expect(parsePeersToml(formatPeersToml(mine, SELF), SELF)).toEqual(mine)
      if (other !== id) expect(() => formatPeersToml([{ ...mine[0]!, url: `mzm-rendezvous://${other}` }], SELF)).toThrow(BadInput)
    }),
    { numRuns: 100 },
  )
})

test('arbitrary text never parses into an entry that breaks the rules', () => {
  fc.assert(
    fc.property(text(20), (t) => {
      let entries: PeerEntry[]
      try {
        entries = parsePeersToml(`[peers.${randomUUID()}]\nname = "${t}"\n` + t, SELF)
      } catch (err) {
        expect(err).toBeInstanceOf(Error)
        return
      }
      for (const e of entries) {
        expect(e.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
        expect(e.id).not.toBe(SELF)
        expect(e.name).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/)
        expect(e.scope.length).toBeGreaterThan(0)
        expect(e.scope.length).toBeLessThanOrEqual(16)
      }
    }),
    { numRuns: 500 },
  )
})
