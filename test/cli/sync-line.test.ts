import { describe, expect, test } from 'bun:test'
import { syncLine } from '../../src/cli/cmd-peer'

const PEER = '6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f'
const base: Parameters<typeof syncLine>[0] = { peer: PEER, ok: false, fetched: 0, stored: 0, deleted: 0, dropped: 0, ms: 0, status: null, hint: null }

describe('mazemaker sync: one line per peer', () => {
  test('a pull that worked', () => {
    expect(syncLine({ ...base, ok: true, fetched: 3, stored: 3, ms: 12 })).toBe('6356db37  ok    fetched=3 stored=3 deleted=0 ms=12')
  })

  // Every reason the sync loop reports as "not pulled" is a skip here too, not an ERR (the CLI
  // had its own shorter list, so `stopped` and `superseded` printed ERR and failed the command).
  test.each([
    'paused',
    'handshake_pending',
    'revoked',
    'removed',
    'stopped',
    'superseded',
    'scope_changed',
    'url_changed',
    'key_changed',
    'live_changed',
  ] as const)('%s is a skip', (error) => {
    expect(syncLine({ ...base, error, detail: 'why' })).toBe(`6356db37  skip  ${error} why`)
  })

  test('a failure is ERR with its code and detail', () => {
    expect(syncLine({ ...base, error: 'request_failed', detail: 'connect ECONNREFUSED' })).toBe('6356db37  ERR   err=request_failed connect ECONNREFUSED')
  })
})
