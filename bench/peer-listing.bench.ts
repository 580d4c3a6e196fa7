/**
 * What listing every peer costs a hub: GET /metrics (a Prometheus scrape, with per-peer gauges)
 * and GET /peer/peers (the panel's and `peer list`'s overview), and what POST /peer/sync-now of one
 * peer costs beside them (its pull fails at once: the answer's own work), on a pod holding PEERS peers in
 * peers.toml (test/helpers/hub-peers: most refusing, so each has a failed pull behind it, some
 * pending, some paused), after every pull has failed once. Per call: the pod's CPU (/proc, over
 * CALLS calls in a row) and the wall time, which is how long the pod's event loop is busy with
 * it (every live peer's answer waits). BASE=<checkout with node_modules>: that checkout's pod,
 * from source, on its own home with the same number of peers, rounds alternating (this tree
 * from source too); the minimum of ROUNDS counts. POD_PROF=<dir> (and POD_PROF_FORMAT=json): the
 * pods under Bun's sampling profiler.
 *
 *   npx bun bench/peer-listing.bench.ts                                  # PEERS=2000
 *   BASE=/work/wt/base PEERS=2000 ROUNDS=3 npx bun bench/peer-listing.bench.ts
 */
import { join, resolve } from 'node:path'
import { hubWithFailedPulls } from '../test/helpers/hub-peers'
import { cleanup, spawnPod, type PodProcess } from '../test/helpers/pod-process'
import { cpuSeconds, envInt, loadNote, profilerFlags } from './_fed-util'
import { fmt, row } from './_util'

const PEERS = envInt('PEERS', 2000)
const CALLS = envInt('CALLS', 20)
const ROUNDS = envInt('ROUNDS', 3)
const BASE = process.env.BASE ? resolve(process.env.BASE) : ''
const ROOT = resolve(import.meta.dir, '..')
const ROUTES = ['/metrics', '/peer/peers', 'sync-now one peer'] as const

interface Hub {
  name: string
  pod: PodProcess
  /** A peer whose pull fails at once (it refuses): sync-now of it costs the answer's own work. */
  failing: string
  best: Record<(typeof ROUTES)[number], { cpuMs: number; wallMs: number }>
}

async function hubOf(name: string, tree: string): Promise<Hub> {
  const pod = await spawnPod({
    command: [process.execPath, ...(process.env.POD_PROF ? profilerFlags(process.env.POD_PROF) : []), join(tree, 'src', 'main.ts')],
    env: { MAZEMAKER_LIVE_WAIT: '0' },
  })
  const failing = (await hubWithFailedPulls(pod, PEERS)).find((p) => p.url !== '' && p.sync)!.id
  const none = { cpuMs: Number.POSITIVE_INFINITY, wallMs: Number.POSITIVE_INFINITY }
  return { name, pod, failing, best: { '/metrics': { ...none }, '/peer/peers': { ...none }, 'sync-now one peer': { ...none } } }
}

async function measure(h: Hub, route: (typeof ROUTES)[number]): Promise<void> {
  const call = async () => {
    const authorization = `Bearer ${h.pod.token()}`
    const res =
      route === 'sync-now one peer'
        ? await fetch(`${h.pod.url}/peer/sync-now`, {
            method: 'POST',
            headers: { authorization, 'content-type': 'application/json' },
            body: JSON.stringify({ peer: h.failing }),
          })
        : await fetch(h.pod.url + route, { headers: { authorization } })
    if (res.status !== 200) throw new Error(`${h.name} ${route}: ${res.status}`)
    await res.arrayBuffer()
  }
  await call()
  const cpu0 = cpuSeconds(h.pod.pid)
  const t0 = performance.now()
  for (let i = 0; i < CALLS; i++) await call()
  const wallMs = (performance.now() - t0) / CALLS
  const cpuMs = ((cpuSeconds(h.pod.pid) - cpu0) * 1000) / CALLS
  const best = h.best[route]
  best.cpuMs = Math.min(best.cpuMs, cpuMs)
  best.wallMs = Math.min(best.wallMs, wallMs)
  row(`${h.name}: ${route}`, `${fmt(cpuMs, 1)} ms CPU`, `${fmt(wallMs, 1)} ms wall per call`)
}

console.log(`# listing every peer: ${PEERS} peers, ${CALLS} calls a round, ${ROUNDS} rounds (Bun ${Bun.version}; ${loadNote()})`)
const hubs: Hub[] = []
try {
  hubs.push(await hubOf('this tree', ROOT))
  if (BASE) hubs.push(await hubOf('BASE', BASE))
  for (let r = 0; r < ROUNDS; r++) for (const h of hubs) for (const route of ROUTES) await measure(h, route)
  console.log(`\n## minimum of ${ROUNDS} rounds (${loadNote()})`)
  for (const h of hubs)
    for (const route of ROUTES) row(`${h.name}: ${route}`, `${fmt(h.best[route].cpuMs, 1)} ms CPU`, `${fmt(h.best[route].wallMs, 1)} ms wall per call`)
  if (hubs.length === 2) {
    for (const route of ROUTES) row(`this tree / BASE: ${route}`, `${fmt(hubs[0]!.best[route].cpuMs / hubs[1]!.best[route].cpuMs, 2)}x CPU`)
  }
} finally {
  await cleanup(hubs.map((h) => h.pod))
}
