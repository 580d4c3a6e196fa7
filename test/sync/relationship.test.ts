/** When a pull in flight must stop, and whether its peer is pulled again at once (src/sync/relationship.ts). */
import { expect, test } from 'bun:test'
import type { PeerRecord, PodId, PublicKey } from '../../src/identity'
import { isChangeReason, type SkipReason } from '../../src/lib/codes'
import { keepsCursor, stopReason } from '../../src/sync/relationship'

const started: PeerRecord = {
  id: '6356db37-0000-4000-8000-000000000001' as PodId,
  key: 'k'.repeat(43) as PublicKey,
  name: 'alice',
  url: ['http://127.0.0.1:1', 'http://127.0.0.1:2'],
  sync: true,
  live: true,
  scope: ['public:*'],
}

test('a pull goes on while nothing it asks with changed (a new name is not a reason to stop)', () => {
  expect(stopReason(started, { ...started })).toBeNull()
  expect(stopReason(started, { ...started, name: 'alice at home' })).toBeNull()
  // live unset means live
  expect(stopReason({ ...started, live: undefined }, { ...started, live: true })).toBeNull()
})

test('removed, revoked (key file gone) and paused end the relationship; the peer is not pulled again at once', () => {
  expect(stopReason(started, null)).toBe('removed')
  expect(stopReason(started, { ...started, key: null })).toBe('revoked')
  expect(stopReason(started, { ...started, sync: false })).toBe('paused')
  for (const why of ['removed', 'revoked', 'paused']) expect(isChangeReason(why)).toBe(false)
})

test('a new key, scope, URL list (order included) or live setting stops the pull, and the peer is pulled again at once', () => {
  const cases: [Partial<PeerRecord>, SkipReason][] = [
    [{ key: 'j'.repeat(43) as PublicKey }, 'key_changed'],
    [{ scope: ['public:*', 'team:*'] }, 'scope_changed'],
    [{ scope: ['team:*'] }, 'scope_changed'],
    [{ url: ['http://127.0.0.1:2', 'http://127.0.0.1:1'] }, 'url_changed'],
    [{ url: 'http://127.0.0.1:1' }, 'url_changed'],
    [{ live: false }, 'live_changed'],
  ]
  for (const [change, why] of cases) {
    expect(stopReason(started, { ...started, ...change })).toBe(why)
    expect(isChangeReason(why)).toBe(true)
  }
})

test('only a narrowed scope keeps the cursor (the next pull goes on where it was); every other change starts afresh', () => {
  expect(keepsCursor('scope_changed', started, { ...started, scope: ['public:notes*'] })).toBe(true)
  expect(keepsCursor('scope_changed', started, { ...started, scope: ['public:*', 'team:*'] })).toBe(false)
  expect(keepsCursor('scope_changed', started, null)).toBe(false)
  for (const why of ['url_changed', 'key_changed', 'live_changed', 'removed'])
    expect(keepsCursor(why, started, { ...started, scope: ['public:notes*'] })).toBe(false)
})
