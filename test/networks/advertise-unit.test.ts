/**
 * Pure parts of issue 10: which addresses other machines reach (loopback, tailnet, LAN),
 * `advertise suggest` from a machine's interfaces, doctor's reach check, and the bounded,
 * rate-limited list of pods that tried to pull from us (attacker-controlled ids).
 */
import { describe, expect, test } from 'bun:test'
import { HOUR_MS, MINUTE_MS } from '../../src/lib/clock'
import {
  checkAdvertiseReach,
  isLoopbackHost,
  isTailnetAddress,
  suggestAdvertise,
  UNKNOWN_CALLERS_MAX,
  UnknownCallers,
  type Interfaces,
} from '../../src/identity'

const IFACES: Interfaces = {
  lo: [
    { address: '127.0.0.1', family: 'IPv4', internal: true },
    { address: '::1', family: 'IPv6', internal: true },
  ],
  eth0: [
    { address: '192.168.1.5', family: 'IPv4', internal: false },
    { address: 'fe80::1', family: 'IPv6', internal: false },
  ],
  tailscale0: [
    { address: '100.101.102.103', family: 'IPv4', internal: false },
    { address: 'fd7a:115c:a1e0::53', family: 'IPv6', internal: false },
  ],
}

describe('addresses', () => {
  test.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['localhost', true],
    ['pod.localhost', true],
    ['[::1]', true],
    ['::ffff:127.0.0.1', true],
    ['192.168.1.5', false],
    ['alca.tail-foo.ts.net', false],
  ])('loopback %s → %p', (host, want) => expect(isLoopbackHost(host)).toBe(want))
  test.each([
    ['100.64.0.1', true],
    ['100.127.255.254', true],
    ['100.128.0.1', false],
    ['100.63.255.255', false],
    ['fd7a:115c:a1e0::53', true],
    ['[fd7a:115c:a1e0:ab12::1]', true],
    ['fd7a:115c:a1e1::1', false],
  ])('tailnet %s → %p', (host, want) => expect(isTailnetAddress(host)).toBe(want))
})

describe('advertise suggest', () => {
  test('wildcard listen: the hostname and tailnet addresses first, then LAN; no loopback, no link-local', () => {
    const s = suggestAdvertise({ listenHost: '0.0.0.0', port: 8765, interfaces: IFACES, hostname: 'alca' })
    expect(s.map((x) => [x.url, x.kind])).toEqual([
      ['http://alca:8765', 'tailnet-name'],
      ['http://100.101.102.103:8765', 'tailnet'],
      ['http://[fd7a:115c:a1e0::53]:8765', 'tailnet'],
      ['http://192.168.1.5:8765', 'lan'],
    ])
  })
  test('bound to the tailnet address: that address and the name only', () => {
    const s = suggestAdvertise({ listenHost: '100.101.102.103', port: 9000, interfaces: IFACES, hostname: 'alca' })
    expect(s.map((x) => x.url)).toEqual(['http://alca:9000', 'http://100.101.102.103:9000'])
  })
  test('loopback listen: nothing to suggest (only a proxy on this machine reaches it)', () => {
    expect(suggestAdvertise({ listenHost: '127.0.0.1', port: 8765, interfaces: IFACES, hostname: 'alca' })).toEqual([])
  })
  test('a hostname that is not a DNS name is left out', () => {
    const s = suggestAdvertise({ listenHost: '::', port: 8765, interfaces: IFACES, hostname: 'my host!' })
    expect(s.some((x) => x.kind === 'tailnet-name')).toBe(false)
  })
})

describe('doctor reach check', () => {
  test('loopback only (advertised, or registered at a rendezvous) fails; nothing advertised without a rendezvous is ok', () => {
    expect(checkAdvertiseReach({ advertise: ['http://127.0.0.1:8765'], listenHost: '127.0.0.1', heartbeatUrl: null }).ok).toBe(false)
    expect(checkAdvertiseReach({ advertise: [], listenHost: '127.0.0.1', heartbeatUrl: 'http://127.0.0.1:8765' }).ok).toBe(false)
    expect(checkAdvertiseReach({ advertise: [], listenHost: '0.0.0.0', heartbeatUrl: 'http://192.168.1.5:8765' }).ok).toBe(true)
    expect(checkAdvertiseReach({ advertise: [], listenHost: '127.0.0.1', heartbeatUrl: null })).toMatchObject({
      ok: true,
      detail: expect.stringContaining('advertises nothing'),
    })
    const mixed = checkAdvertiseReach({ advertise: ['http://localhost:1', 'https://alca.example.org/mzm'], listenHost: '127.0.0.1', heartbeatUrl: null })
    expect(mixed).toMatchObject({ ok: true, detail: expect.stringContaining('http://localhost:1 is loopback') })
  })
})

describe('UnknownCallers', () => {
  const id = (n: number) => `${n.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`

  test('logs an id at most once an hour, counts every try, most recent first', () => {
    const u = new UnknownCallers()
    const t0 = Date.parse('2026-05-26T10:00:00Z')
    expect(u.note(id(1), t0)).toBe(true)
    expect(u.note(id(1), t0 + MINUTE_MS)).toBe(false)
    expect(u.note(id(2), t0 + 2 * MINUTE_MS)).toBe(true)
    expect(u.note(id(1), t0 + HOUR_MS)).toBe(true)
    expect(u.list()).toEqual([
      { id: '00000001', first_seen: '2026-05-26T10:00:00.000Z', last_seen: '2026-05-26T11:00:00.000Z', count: 3 },
      { id: '00000002', first_seen: '2026-05-26T10:02:00.000Z', last_seen: '2026-05-26T10:02:00.000Z', count: 1 },
    ])
    expect(u.list((x) => x === id(1)).map((c) => c.id)).toEqual(['00000002'])
  })

  test('a flood of made-up ids: memory bounded, log lines bounded per hour, garbage ids ignored', () => {
    const u = new UnknownCallers()
    const t0 = Date.parse('2026-05-26T10:00:00Z')
    let logged = 0
    for (let i = 0; i < 10_000; i++) if (u.note(id(i), t0 + i)) logged++
    expect(u.list()).toHaveLength(UNKNOWN_CALLERS_MAX)
    expect(u.list()[0]!.id).toBe(id(9999).slice(0, 8))
    expect(logged).toBe(20)
    expect(u.note('../../etc/passwd', t0)).toBe(false)
    expect(u.note('not-a-uuid', t0)).toBe(false)
    expect(u.list()).toHaveLength(UNKNOWN_CALLERS_MAX)
  })
})
