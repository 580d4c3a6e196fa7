/** The display helpers the panel and `peer list` share (src/http/panel/format.js). */
import { describe, expect, test } from 'bun:test'
import {
  applyPeerChanges,
  comparePeers,
  filterPeers,
  peerMatches,
  shortId,
  shortIds,
  STATUS_LOOK,
  statusCounts,
  statusText,
  timeAgo,
  urlList,
} from '../../src/http/panel/format.js'
import { shortId as identityShortId } from '../../src/identity'
import type { PeerView } from '../../src/api/types'
import { PEER_STATUSES } from '../../src/lib/codes'
import { problemsFirst } from '../../src/sync/peer-overview'

const NOW = Date.parse('2026-05-26T12:00:00.000Z')
const ago = (ms: number) => new Date(NOW - ms).toISOString()
const MIN = 60_000

describe('status looks', () => {
  test('one per status, in the vocabulary order (problems first), so the filter buttons read in that order', () => {
    expect(Object.keys(STATUS_LOOK)).toEqual([...PEER_STATUSES])
  })
  test.each([
    ['ready', '• ready'],
    ['error', '✕ error'],
    ['revoked', 'revoked'],
    ['from-a-newer-pod', 'from-a-newer-pod'],
  ])('%s reads %s', (status, text) => {
    expect(statusText(status)).toBe(text)
  })
})

describe('shortIds', () => {
  test('8 characters, more where two ids share them', () => {
    const m = shortIds(['6356db37-aaaa', '6356db37-bbbb', 'f678a5fc-cccc'])
    expect([m.get('6356db37-aaaa'), m.get('6356db37-bbbb'), m.get('f678a5fc-cccc')]).toEqual(['6356db37-a', '6356db37-b', 'f678a5fc'])
  })

  test('2,000 ids: the same answer as comparing every pair', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `${(i % 700).toString(16).padStart(8, '0')}-${crypto.randomUUID().slice(9)}`)
    const pairwise = (id: string) => {
      let n = 8
      while (n < id.length && ids.some((o) => o !== id && o.startsWith(id.slice(0, n)))) n++
      return id.slice(0, n)
    }
    const m = shortIds(ids)
    for (const id of ids) expect(m.get(id)).toBe(pairwise(id))
  })

  test('shortId is the one the logs use', () => {
    const id = '6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f'
    expect(shortId(id)).toBe(identityShortId(id))
  })
})

describe('timeAgo', () => {
  test.each([
    [null, 'never'],
    ['not a date', 'never'],
    [ago(0), 'just now'],
    [ago(59_000), 'just now'],
    [ago(-30_000), 'just now'], // a clock slightly ahead
    [ago(2 * MIN), '2 min ago'],
    [ago(59 * MIN), '59 min ago'],
    [ago(3 * 60 * MIN), '3 h ago'],
    [ago(50 * 60 * MIN), '2 d ago'],
  ])('%p → %p', (iso, want) => {
    expect(timeAgo(iso, NOW)).toBe(want)
  })
})

describe('search and status filter', () => {
  const peers = [
    { id: '6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f', name: 'alca-7G', status: 'error' },
    { id: 'f678a5fc-1111-4222-8333-444455556666', name: 'tpad', status: 'ready' },
    { id: '0badcafe-1111-4222-8333-444455556666', name: 'Hub-Alca', status: 'ready' },
  ]
  test.each([
    ['', 3],
    ['ALCA', 2],
    ['f678a5fc', 1],
    ['4c2a', 1],
    ['  tpad ', 1],
    ['nobody', 0],
  ])('%p matches %i peers by name or id', (q, n) => {
    expect(peers.filter((p) => peerMatches(p, q)).length).toBe(n)
  })
  test('status and search together keep the order given', () => {
    expect(filterPeers(peers, { statuses: new Set(['ready']), query: 'a' }).map((p) => p.name)).toEqual(['tpad', 'Hub-Alca'])
    expect(filterPeers(peers, { statuses: new Set(), query: '' }).length).toBe(3)
  })
  test('counts per status, every status present', () => {
    const c = statusCounts(peers)
    expect(c.get('ready')).toBe(2)
    expect(c.get('error')).toBe(1)
    expect(c.get('paused')).toBe(0)
    expect([...c.keys()]).toEqual([...PEER_STATUSES])
  })
})

test('urlList takes every shape the API used', () => {
  expect(urlList({ url: '' })).toEqual([])
  expect(urlList({ url: 'https://a' })).toEqual(['https://a'])
  expect(urlList({ url: ['https://a', 'https://b'] })).toEqual(['https://a', 'https://b'])
  expect(urlList({ url: 'https://a', urls: ['https://a'] })).toEqual(['https://a'])
})

describe('a peers-changed frame applied in the page', () => {
  // Names that sort differently by case and by code point, statuses in every rank, ids that break ties.
  const names = ['alpha', 'Alpha', 'beta', 'Zed', 'zed', 'émile', '', 'spoke-0010', 'spoke-0002']
  const peers = Array.from({ length: 300 }, (_, i) => ({
    id: `id-${String((i * 7919) % 1000).padStart(4, '0')}`,
    name: names[i % names.length]!,
    status: PEER_STATUSES[(i * 31) % PEER_STATUSES.length]!,
  }))

  test('comparePeers orders a list exactly as the pod does (problems first, then name, then id)', () => {
    const pod = [...peers].sort((a, b) => problemsFirst(a as PeerView, b as PeerView)).map((p) => p.id)
    expect([...peers].sort(comparePeers).map((p) => p.id)).toEqual(pod)
  })

  test('changed peers replace or join by id, removed ones leave, and the result is in the pod order', () => {
    const before = [...peers].sort(comparePeers)
    const moved = { ...before[0]!, status: 'paused' as const }
    const joined = { id: 'id-new', name: 'aardvark', status: 'error' as const }
    const after = applyPeerChanges(before, { peers: [moved, joined], removed: [before[1]!.id] })
    expect(after).toHaveLength(before.length)
    expect(after.find((p) => p.id === moved.id)!.status).toBe('paused')
    expect(after.some((p) => p.id === before[1]!.id)).toBe(false)
    const whole = [...before.slice(2), moved, joined].sort((a, b) => problemsFirst(a as PeerView, b as PeerView))
    expect(after.map((p) => p.id)).toEqual(whole.map((p) => p.id))
  })
})
