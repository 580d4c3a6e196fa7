/**
 * A hub whose peers all fail: N peers in peers.toml (each with a key file) pointing at a closed
 * port, so every pull fails at once and backs off (5 s, 10 s, …). The pod runs in this process;
 * measured over WINDOW_S seconds after start: its CPU (process.cpuUsage), the event loop's lag
 * (a 10 ms timer's lateness, p50/p99/max) and GET /healthz on its TCP port (p50/max, one a
 * second). Baseline in the same run: the same home with the sync loop off.
 *
 *   npx bun bench/hub-failing.bench.ts            # N=2000, WINDOW_S=40
 *   N=500 WINDOW_S=15 npx bun bench/hub-failing.bench.ts
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import type { PodId } from '../src/identity'
import { formatPeersToml } from '../src/identity/peers-toml'
import { writeFileAtomic } from '../src/lib/atomic-file'
import { createLogger } from '../src/lib/log'
import { startPod } from '../src/pod'
import { tempHome } from '../test/helpers/pod-process'
import { envInt, loadNote } from './_fed-util'
import { fmt, percentile, row } from './_util'

const N = envInt('N', 2000)
const WINDOW_S = envInt('WINDOW_S', 40)

interface Window {
  cpuPct: number
  lag: number[]
  healthz: number[]
}

async function measure(home: string, autoSync: boolean): Promise<Window> {
  const pod = await startPod({ home, port: 0, host: '127.0.0.1', log: createLogger({ level: 'error' }), autoSync })
  const lag: number[] = []
  const healthz: number[] = []
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  let nextHealthz = t0
  try {
    while (performance.now() - t0 < WINDOW_S * 1000) {
      const a = performance.now()
      await new Promise((r) => setTimeout(r, 10))
      lag.push(performance.now() - a - 10)
      if (performance.now() >= nextHealthz) {
        nextHealthz += 1000
        const h = performance.now()
        await fetch(`${pod.url}/healthz`)
        healthz.push(performance.now() - h)
      }
    }
  } finally {
    await pod.close()
  }
  const cpu = process.cpuUsage(cpu0)
  return { cpuPct: ((cpu.user + cpu.system) / 1e6 / WINDOW_S) * 100, lag, healthz }
}

function show(name: string, w: Window): void {
  const lag = [...w.lag].sort((a, b) => a - b)
  const hz = [...w.healthz].sort((a, b) => a - b)
  row(`${name}: CPU`, `${fmt(w.cpuPct, 1)} %`, 'of one core, this process (the pod)')
  row(`${name}: event-loop lag`, `p50 ${fmt(percentile(lag, 50), 1)} ms`, `p99 ${fmt(percentile(lag, 99), 0)} ms, max ${fmt(lag.at(-1)!, 0)} ms`)
  row(`${name}: GET /healthz`, `p50 ${fmt(percentile(hz, 50), 0)} ms`, `max ${fmt(hz.at(-1)!, 0)} ms (${hz.length} asked)`)
}

async function main(): Promise<void> {
  console.log(`# a hub with ${N} peers that all fail (closed port), first ${WINDOW_S} s after start (Bun ${Bun.version}; ${loadNote()})`)
  const home = tempHome('mzm-hub-bench-')
  try {
    // The home once, then N peers as a provisioning script would write them.
    const boot = await startPod({ home, port: 0, host: '127.0.0.1', log: createLogger({ level: 'error' }), autoSync: false })
    const { paths, identity } = boot.home
    await boot.close()
    const peers = Array.from({ length: N }, () => ({ id: randomUUID() as PodId, name: '', url: 'http://127.0.0.1:9', sync: true, scope: ['*'] }))
    for (const p of peers) writeFileAtomic(join(paths.peerKeyDir, `${p.id}.key`), `${randomBytes(32).toString('base64url')}\n`, 0o600)
    writeFileAtomic(paths.peersToml, formatPeersToml(peers, identity.podId), 0o600)

    const off = await measure(home, false)
    const on = await measure(home, true)
    console.log()
    show('loop off (baseline)', off)
    show(`loop on, ${N} failing peers`, on)
    const p50 = (xs: number[]) =>
      percentile(
        [...xs].sort((a, b) => a - b),
        50,
      )
    row('ratio /healthz p50 (on / off)', `${fmt(p50(on.healthz) / Math.max(0.1, p50(off.healthz)), 1)}x`)
    console.log(`\n(${loadNote()})`)
  } finally {
    rmSync(home, { recursive: true, force: true })
  }
}

await main()
