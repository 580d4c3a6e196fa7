/**
 * Tailnet: two pods on two hosts (namespaces) of one flat 100.64.0.0/10 network, each bound to
 * its own tailnet address and advertising its MagicDNS-style name (resolved by the hosts' own
 * hosts files). One paste each way, with no URL typed, pairs them; sync works both ways.
 * Prints the time from the first paste to the first successful pull (bench/README.md).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { cleanup, type PodProcess } from '../helpers/pod-process'
import { createTopology, type Topology } from './netns'
import { copyOf, handshakeOf, hostPod, paste, remember, syncNow } from './hosts'

let topo: Topology | null = null
let nsA = ''
let nsB = ''
const pods: PodProcess[] = []

const TAILNET = { 'alca.tail-test.ts.net': '100.64.0.1', 'borm.tail-test.ts.net': '100.64.0.2' }

beforeAll(() => {
  topo = createTopology()
  nsA = topo.ns('alca')
  nsB = topo.ns('borm')
  topo.link(nsA, '100.64.0.1/24', nsB, '100.64.0.2/24')
  topo.hosts(nsA, TAILNET)
  topo.hosts(nsB, TAILNET)
})

afterAll(async () => {
  await cleanup(pods)
  topo?.destroy()
})

test('tailnet: one paste each way, no URL typed, sync both ways', async () => {
  const a = await hostPod({ netns: nsA, name: 'alca', listen: '100.64.0.1:8765', advertise: ['http://alca.tail-test.ts.net:8765'] })
  pods.push(a)
  const b = await hostPod({ netns: nsB, name: 'borm', listen: '100.64.0.2:8765', advertise: ['http://borm.tail-test.ts.net:8765'] })
  pods.push(b)
  expect(a.url).toContain('100.64.0.1')
  await remember(a, 'public:from-alca', 'alca knows the tide tables')
  await remember(b, 'public:from-borm', 'borm knows the bus times')

  // The handshake URL carries the advertised name: that is all the other operator gets.
  const hsA = await handshakeOf(a)
  expect(hsA.handshake_url).toContain(encodeURIComponent('http://alca.tail-test.ts.net:8765'))

  const t0 = performance.now()
  const peerB = await paste(a, b)
  const peerA = await paste(b, a)
  const first = await syncNow(a, peerB.id)
  const pairToPullMs = performance.now() - t0
  expect(first).toMatchObject({ ok: true, stored: 1 })
  expect(await syncNow(b, peerA.id)).toMatchObject({ ok: true, stored: 1 })

  expect(await copyOf(a, peerB.id, 'public:from-borm')).toBe('borm knows the bus times')
  expect(await copyOf(b, peerA.id, 'public:from-alca')).toBe('alca knows the tide tables')
  // The pull went to the name resolved inside the namespace, not to anything the test typed.
  expect(a.logs() + b.logs()).not.toContain('127.0.0.1')
  console.log(`tailnet: one paste each way to the first successful pull across two namespaces: ${pairToPullMs.toFixed(0)} ms`)
}, 60_000)
