import { describe, expect, test } from 'bun:test'
import { ERROR_CODES, isErrorCode, isPeerStatus, isSkipReason, PEER_STATUSES, SKIP_REASONS, statusRank } from '../../src/lib/codes'

describe('the vocabulary of codes', () => {
  test('each list names each code once, and no code is both an error and a skip', () => {
    for (const list of [ERROR_CODES, SKIP_REASONS, PEER_STATUSES] as readonly (readonly string[])[]) expect(new Set(list).size).toBe(list.length)
    expect(SKIP_REASONS.filter((s) => (ERROR_CODES as readonly string[]).includes(s))).toEqual([])
  })

  test.each([
    ['paused', true],
    ['handshake_pending', true],
    ['stopped', true],
    ['superseded', true],
    ['scope_changed', true],
    ['request_failed', false],
    ['http_502', false],
    [undefined, false],
    [null, false],
  ] as const)('isSkipReason(%p) is %p', (code, want) => {
    expect(isSkipReason(code)).toBe(want)
  })

  test.each([
    ['unauthorized', true],
    ['http_502', true],
    ['http_5021', false],
    ['http_', false],
    ['paused', false],
    ['no_such_code', false],
    [42, false],
  ] as const)('isErrorCode(%p) is %p', (code, want) => {
    expect(isErrorCode(code)).toBe(want)
  })

  test('statuses sort problems first: disk-full, error, held, revoked, awaiting-peer, handshake-pending, then ready and paused', () => {
    const shuffled = ['ready', 'paused', 'handshake-pending', 'error', 'awaiting-peer', 'revoked', 'held', 'disk-full'] as const
    expect([...shuffled].sort((a, b) => statusRank(a) - statusRank(b))).toEqual([
      'disk-full',
      'error',
      'held',
      'revoked',
      'awaiting-peer',
      'handshake-pending',
      'ready',
      'paused',
    ])
    expect(isPeerStatus('ready')).toBe(true)
    expect(isPeerStatus('handshake_pending')).toBe(false)
  })
})
