/** `peer list` table: aligned columns, colour only when asked, time-ago wording. */
import { describe, expect, test } from 'bun:test'
import { formatPeerTable as formatWith, type PeerRow } from '../../src/cli/table'
import * as format from '../../src/http/panel/format.js'

const formatPeerTable = (peers: PeerRow[], opts: { color: boolean; nowMs?: number }) => formatWith(peers, { ...opts, format })

const NOW = Date.parse('2026-05-26T12:00:00.000Z')
const ago = (ms: number) => new Date(NOW - ms).toISOString()
const MIN = 60_000

const PEERS: PeerRow[] = [
  {
    id: '6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f',
    name: 'alca-7G',
    url: 'https://peer.tail-foo.ts.net',
    scope: 'public:*',
    status: 'ready',
    last_sync_at: ago(2 * MIN),
    last_error: null,
    memories: 12,
  },
  {
    id: 'f678a5fc-1111-4222-8333-444455556666',
    name: 'tpad',
    url: '',
    scope: ['public:*', 'decision:*'],
    status: 'handshake-pending',
    last_sync_at: null,
    last_error: null,
    memories: 0,
  },
  {
    id: '0a1b2c3d-1111-4222-8333-444455556666',
    name: 'hub',
    url: 'https://hub.example',
    scope: 'public:*',
    status: 'error',
    last_sync_at: ago(3 * 60 * MIN),
    last_error: 'request_failed: connect ECONNREFUSED',
    memories: 1234,
  },
]

// eslint-disable-next-line no-control-regex
const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '')

describe('formatPeerTable', () => {
  test('plain: aligned columns, status words with their icons, no escape codes', () => {
    const out = formatPeerTable(PEERS, { color: false, nowMs: NOW })
    expect(out).not.toContain('\x1b')
    const lines = out.split('\n')
    expect(lines[0]).toMatch(/^ID\s+NAME\s+STATUS\s+URL\s+SCOPE\s+LAST SYNC\s+COPIES$/)
    const col = (name: string) => lines[0]!.indexOf(name)
    // Every row starts each column exactly under its header.
    expect(lines[1]!.indexOf('alca-7G')).toBe(col('NAME'))
    expect(lines[2]!.indexOf('◖ handshake-pending')).toBe(col('STATUS'))
    expect(lines[3]!.indexOf('https://hub.example')).toBe(col('URL'))
    expect(lines[1]!.indexOf('2 min ago')).toBe(col('LAST SYNC'))
    expect(lines[1]).toContain('• ready')
    expect(lines[2]).toContain('(none yet)')
    expect(lines[2]).toContain('public:*,decision:*')
    expect(lines[2]).toContain('never')
    expect(lines[3]).toContain('✕ error')
    expect(lines[3]).toContain('3 h ago')
    // COPIES is right-aligned: every row (and the header) ends at the same column.
    expect(new Set(lines.slice(0, 4).map((l) => l.length)).size).toBe(1)
    expect(lines[1]!.startsWith('6356db37  ')).toBe(true)
    // the error reason comes after the table
    expect(lines.slice(4)).toEqual(['', '0a1b2c3d: last pull failed: request_failed: connect ECONNREFUSED'])
  })

  test('colour: status painted, same layout once the codes are removed', () => {
    const plain = formatPeerTable(PEERS, { color: false, nowMs: NOW })
    const coloured = formatPeerTable(PEERS, { color: true, nowMs: NOW })
    expect(coloured).toContain('\x1b[32m• ready\x1b[0m')
    expect(coloured).toContain('\x1b[33m◖ handshake-pending\x1b[0m')
    expect(coloured).toContain('\x1b[31m✕ error\x1b[0m')
    expect(stripAnsi(coloured)).toBe(plain)
  })

  test('paused and revoked', () => {
    const out = formatPeerTable(
      [
        { ...PEERS[0]!, status: 'paused' },
        { ...PEERS[1]!, status: 'revoked' },
      ],
      { color: false, nowMs: NOW },
    )
    expect(out).toContain('‖ paused')
    expect(out).toMatch(/\brevoked\b/)
  })

  test('control and bidi characters from peers never reach the terminal raw: shown as escapes', () => {
    const out = formatPeerTable(
      [{ ...PEERS[0]!, name: 'evil\x1b]0;owned\x07name', url: 'https://a\u202eb', scope: 'public:\u2066*', last_error: 'x\x1b[2Jy\u009b1m\nforged row' }],
      { color: false, nowMs: NOW },
    )
    expect(out).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/)
    expect(out).toContain('evil\\x1b]0;owned\\x07name')
    expect(out).toContain('https://a\\u202eb')
    expect(out).toContain('public:\\u2066*')
    expect(out).toContain('x\\x1b[2Jy\\x9b1m\\nforged row')
  })

  test('wide characters keep the columns aligned', () => {
    const out = formatPeerTable([{ ...PEERS[0]!, name: '東京ポッド' }, PEERS[1]!], { color: false, nowMs: NOW })
    const lines = out.split('\n')
    const statusCol = (l: string) => Bun.stringWidth(l.slice(0, l.search(/[•◖]/)))
    expect(statusCol(lines[1]!)).toBe(statusCol(lines[2]!))
  })
})
