/**
 * Home server behind NAT. "NAT" here is what a home router does (nftables in a router
 * namespace): the home's LAN (10.30.0.0/24) is masqueraded on the way out and nothing on the
 * outside has a route to it; the only way in is the router's one port-forward (its WAN address
 * :8765 → the pod). The home pod registers with a rendezvous on the "internet" the URL of that
 * port-forward (its pod.toml advertise_url, a DDNS-style name for the router's WAN address);
 * its peer knows only its id (`mzm-rendezvous://<id>`) and finds it there.
 *
 *   home 10.30.0.2 ─ router (NAT, forward :8765) 10.40.0.1 ─ internet ─┬─ rendezvous 10.41.0.2
 *                                                                        └─ peer       10.42.0.2
 *
 * Asserts: the home's LAN address is unreachable from the peer; the peer pulls from the home by
 * id; the home pulls from the peer through the NAT (outbound only).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import { cleanup, mainCommand, spawnListening, tempHome, testEnv, type PodProcess } from '../helpers/pod-process'
import { createTopology, type Topology } from './netns'
import { copyOf, handshakeOf, hostPod, paste, remember, syncNow } from './hosts'

let topo: Topology | null = null
const pods: PodProcess[] = []
let rdv: Awaited<ReturnType<typeof spawnListening>> | null = null
let rdvHome = ''
const ns = { home: '', router: '', net: '', rdv: '', peer: '' }

/** The home router: masquerade out, one port-forward in, nothing else forwarded inward. */
function routerRules(wan: string, lan: string): string {
  return `table ip mzm_nat {
  chain prerouting { type nat hook prerouting priority -100; iifname "${wan}" tcp dport 8765 dnat to 10.30.0.2:8765; }
  chain postrouting { type nat hook postrouting priority 100; oifname "${wan}" masquerade; }
  chain forward {
    type filter hook forward priority 0; policy drop;
    iifname "${lan}" accept
    ct state established,related accept
    ct status dnat accept
  }
}
`
}

beforeAll(async () => {
  topo = createTopology()
  ns.home = topo.ns('hhome')
  ns.router = topo.ns('hrouter')
  ns.net = topo.ns('hnet')
  ns.rdv = topo.ns('hrdv')
  ns.peer = topo.ns('hpeer')
  topo.link(ns.home, '10.30.0.2/24', ns.router, '10.30.0.1/24') // mzv0: LAN
  topo.link(ns.router, '10.40.0.1/24', ns.net, '10.40.0.2/24') // mzv1: the router's WAN
  topo.link(ns.net, '10.41.0.1/24', ns.rdv, '10.41.0.2/24')
  topo.link(ns.net, '10.42.0.1/24', ns.peer, '10.42.0.2/24')
  topo.route(ns.home, 'default', 'via', '10.30.0.1')
  topo.route(ns.router, 'default', 'via', '10.40.0.2')
  topo.route(ns.rdv, 'default', 'via', '10.41.0.1')
  topo.route(ns.peer, 'default', 'via', '10.42.0.1')
  topo.forward(ns.router)
  topo.forward(ns.net)
  const nft = Bun.spawnSync([...topo.wrap(ns.router), 'nft', '-f', '-'], { stdin: Buffer.from(routerRules('mzv1', 'mzv0')), stderr: 'pipe' })
  if (nft.exitCode !== 0) throw new Error(`nft failed (run scripts/ensure-caddy.sh, it installs nftables): ${nft.stderr.toString()}`)
  const names = { 'rdv.example.test': '10.41.0.2', 'home.example.test': '10.40.0.1' }
  for (const n of [ns.home, ns.peer, ns.rdv]) topo.hosts(n, names)

  rdvHome = tempHome('mzm-net-rdv-')
  const created = Bun.spawnSync([...mainCommand(), '--home', rdvHome, 'rendezvous', 'token', 'create', 'net-test', '--json'], {
    env: testEnv(),
    stdout: 'pipe',
    stderr: 'pipe',
  })
  if (created.exitCode !== 0) throw new Error(`rendezvous token create: ${created.stderr.toString()}`)
  const token = JSON.parse(created.stdout.toString()).token as string
  rdv = await spawnListening([...mainCommand(), '--home', rdvHome, '--host', '10.41.0.2', '--port', '8700', 'rendezvous', 'serve'], {}, { netns: ns.rdv })
  const rendezvous = `[rendezvous]\nurl = "http://rdv.example.test:8700"\ntoken = "${token}"`
  pods.push(await hostPod({ netns: ns.home, name: 'home', listen: '10.30.0.2:8765', advertise: ['http://home.example.test:8765'], toml: rendezvous }))
  pods.push(await hostPod({ netns: ns.peer, name: 'peer', listen: '10.42.0.2:8765', advertise: ['http://10.42.0.2:8765'], toml: rendezvous }))
}, 60_000)

afterAll(async () => {
  await cleanup(pods)
  if (rdv && rdv.proc.exitCode === null) rdv.proc.kill('SIGTERM')
  await rdv?.proc.exited
  if (rdvHome) rmSync(rdvHome, { recursive: true, force: true })
  topo?.destroy()
})

test('home server behind NAT: its peer finds it by id at the rendezvous and pulls through the port-forward; it pulls out through the NAT', async () => {
  const [home, peer] = pods as [PodProcess, PodProcess]
  const t = topo!
  // Nothing outside reaches the home's own address: only the router's forwarded port.
  const direct = t.exec(ns.peer, ['curl', '-sS', '--max-time', '2', 'http://10.30.0.2:8765/healthz'])
  expect(direct.code).not.toBe(0)
  expect(t.exec(ns.peer, ['curl', '-sS', '--max-time', '2', 'http://home.example.test:8765/healthz']).code).toBe(0)

  await remember(home, 'public:from-home', 'the home server holds the recipes')
  await remember(peer, 'public:from-peer', 'the peer holds the maps')
  const homeId = (await handshakeOf(home)).pod_id
  // The peer's operator knows the home only by id: the rendezvous says where it is now.
  const peerHome = await paste(peer, home, { direct_url: `mzm-rendezvous://${homeId}` })
  expect(JSON.stringify(peerHome.url)).toContain('mzm-rendezvous://')
  const homePeer = await paste(home, peer)

  // The home's first heartbeat may still be on its way: retry for a few seconds.
  let result = await syncNow(peer, peerHome.id)
  for (let i = 0; i < 50 && !result.ok; i++) {
    await Bun.sleep(100)
    result = await syncNow(peer, peerHome.id)
  }
  expect(result).toMatchObject({ ok: true, stored: 1 })
  expect(await copyOf(peer, peerHome.id, 'public:from-home')).toBe('the home server holds the recipes')

  expect(await syncNow(home, homePeer.id)).toMatchObject({ ok: true, stored: 1 })
  expect(await copyOf(home, homePeer.id, 'public:from-peer')).toBe('the peer holds the maps')
}, 60_000)
