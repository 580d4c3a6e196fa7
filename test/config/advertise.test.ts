/**
 * What a pod advertises: which addresses other machines reach (loopback, tailnet, LAN),
 * `advertise suggest` from a machine's interfaces, and doctor's reach check.
 */
import { describe, expect, test } from 'bun:test'
import { checkAdvertiseReach, isLoopbackHost, isTailnetAddress, suggestAdvertise, type Interfaces } from '../../src/config'

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
