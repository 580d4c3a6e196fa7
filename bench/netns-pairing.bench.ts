/**
 * One paste each way to the first successful pull, across two network namespaces (the tailnet
 * topology of test/network/tailnet.test.ts: 100.64.0.0/24, names from per-namespace hosts files, no
 * URL typed), beside the same steps between two pods on 127.0.0.1 in the same run.
 *
 * Timed: paste A→B, paste B→A (POST /peer/add with the handshake URL only), then A's first
 * sync-now, which must store B's one memory. Pods start before the clock does. Needs root
 * (network namespaces). TRIALS=5 by default.
 *
 *   npx bun bench/netns-pairing.bench.ts
 */
import { cleanup, spawnPod, type PodProcess } from '../test/helpers/pod-process'
import { createTopology } from '../test/network/netns'
import { handshakeOf, hostPod, paste, remember, syncNow } from '../test/network/hosts'

const TRIALS = Number(process.env.TRIALS ?? 5)

async function timePairing(a: PodProcess, b: PodProcess, direct?: string): Promise<number> {
  await remember(b, 'public:bench', 'one memory to pull')
  const t0 = performance.now()
  const peerB = await paste(a, b, direct ? { direct_url: direct } : {})
  await paste(b, a, direct ? { direct_url: a.url } : {})
  const r = await syncNow(a, peerB.id)
  const ms = performance.now() - t0
  if (!r.ok || r.stored !== 1) throw new Error(`first pull failed: ${JSON.stringify(r)}`)
  return ms
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y)
  return { median: s[Math.floor(s.length / 2)]!, min: s[0]!, max: s[s.length - 1]! }
}

const topo = createTopology()
const netns: number[] = []
const loopback: number[] = []
try {
  const nsA = topo.ns('bench-a')
  const nsB = topo.ns('bench-b')
  topo.link(nsA, '100.64.0.1/24', nsB, '100.64.0.2/24')
  const names = { 'alca.tail-test.ts.net': '100.64.0.1', 'borm.tail-test.ts.net': '100.64.0.2' }
  topo.hosts(nsA, names)
  topo.hosts(nsB, names)
  for (let i = 0; i < TRIALS; i++) {
    const pods = [
      await hostPod({ netns: nsA, name: 'alca', listen: '100.64.0.1:8765', advertise: ['http://alca.tail-test.ts.net:8765'] }),
      await hostPod({ netns: nsB, name: 'borm', listen: '100.64.0.2:8765', advertise: ['http://borm.tail-test.ts.net:8765'] }),
    ]
    try {
      netns.push(await timePairing(pods[0]!, pods[1]!))
    } finally {
      await cleanup(pods)
    }
    const local = [await spawnPod(), await spawnPod()]
    try {
      await handshakeOf(local[1]!)
      loopback.push(await timePairing(local[0]!, local[1]!, local[1]!.url))
    } finally {
      await cleanup(local)
    }
  }
} finally {
  topo.destroy()
}
const n = stats(netns)
const l = stats(loopback)
console.log(
  `paste each way → first pull, two namespaces: median ${n.median.toFixed(0)} ms (min ${n.min.toFixed(0)}, max ${n.max.toFixed(0)}), ${TRIALS} trials`,
)
console.log(`same steps on 127.0.0.1 (--url given):      median ${l.median.toFixed(0)} ms (min ${l.min.toFixed(0)}, max ${l.max.toFixed(0)})`)
console.log(`ratio namespaces / loopback: ${(n.median / l.median).toFixed(2)}x`)
