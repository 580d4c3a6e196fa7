/**
 * The linux-arm64 release binary under qemu-user beside the linux-x64 one, in one run:
 *
 * - start: from spawn to `op=listen`, first boot (the home is created: keys, pod.db) and a restart
 *   on that home; wall time and the pod process's CPU seconds (for the arm64 pod that is qemu's
 *   CPU: the emulation cost on this x64 machine, not what a Raspberry Pi would spend).
 * - pull: a fresh puller pulls N shareable memories (the source also holds N private ones) from an
 *   x64 source pod with one sync-now; then the x64 puller pulls the same N from an arm64 source,
 *   so both directions of an arm64-x64 pair are measured. Wall time and CPU seconds of the puller
 *   and of the source.
 *
 * Printed with arm64/x64 ratios. Needs `npm run release` (dist/release) and qemu-user-static +
 * libc6-arm64-cross (scripts/ensure-release-tools.sh).
 *
 *   npx bun bench/arm64-qemu.bench.ts              # N=10000
 *   N=2000 npx bun bench/arm64-qemu.bench.ts       # smoke run
 */
import { cpSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { spawnPod, tempHome, type PodProcess } from '../test/helpers/pod-process'
import { qemuArm64, releasePath } from '../test/helpers/release'
import { addPeer, cpuSeconds, envInt, fillHome, identityOf, loadNote, timedSyncNow } from './_fed-util'
import { fmt, row } from './_util'

const N = envInt('N', 10_000)
const STARTS = envInt('STARTS', 3)
const QEMU_START_MS = 300_000

const ARCHES = {
  x64: [releasePath('mazemaker-linux-x64')],
  arm64: qemuArm64(releasePath('mazemaker-linux-arm64')),
} as const
type Arch = keyof typeof ARCHES

const root = tempHome('mzm-bench-arm64-')
const started: PodProcess[] = []

async function start(arch: Arch, home: string): Promise<{ pod: PodProcess; wallMs: number; cpuS: number }> {
  const t = performance.now()
  const pod = await spawnPod({ home, command: [...ARCHES[arch]], startupTimeoutMs: QEMU_START_MS, env: { MAZEMAKER_LIVE_WAIT: '0' } })
  const wallMs = performance.now() - t
  started.push(pod)
  return { pod, wallMs, cpuS: cpuSeconds(pod.pid) }
}

async function stop(pod: PodProcess): Promise<void> {
  await pod.stop()
  started.splice(started.indexOf(pod), 1)
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

async function startTimes(arch: Arch): Promise<{ firstMs: number; firstCpu: number; againMs: number; againCpu: number }> {
  const first: { ms: number; cpu: number }[] = []
  const again: { ms: number; cpu: number }[] = []
  for (let i = 0; i < STARTS; i++) {
    const home = join(root, `start-${arch}-${i}`)
    const a = await start(arch, home)
    first.push({ ms: a.wallMs, cpu: a.cpuS })
    await stop(a.pod)
    const b = await start(arch, home)
    again.push({ ms: b.wallMs, cpu: b.cpuS })
    await stop(b.pod)
  }
  return {
    firstMs: median(first.map((x) => x.ms)),
    firstCpu: median(first.map((x) => x.cpu)),
    againMs: median(again.map((x) => x.ms)),
    againCpu: median(again.map((x) => x.cpu)),
  }
}

/** `puller` (fresh home) pulls everything shareable from a source on `sourceHome`. */
async function pull(pullerArch: Arch, sourceArch: Arch, sourceHome: string): Promise<{ ms: number; pullerCpu: number; sourceCpu: number; stored: number }> {
  const source = (await start(sourceArch, sourceHome)).pod
  const puller = (await start(pullerArch, join(root, `puller-${pullerArch}-from-${sourceArch}`))).pod
  const sourceId = await identityOf(source)
  await addPeer(source, (await identityOf(puller)).handshake_url, { direct_url: puller.url })
  await addPeer(puller, sourceId.handshake_url, { direct_url: source.url })
  const pullerCpu0 = cpuSeconds(puller.pid)
  const sourceCpu0 = cpuSeconds(source.pid)
  const round = await timedSyncNow(puller, sourceId.pod_id)
  const out = {
    ms: round.ms,
    pullerCpu: cpuSeconds(puller.pid) - pullerCpu0,
    sourceCpu: cpuSeconds(source.pid) - sourceCpu0,
    stored: round.results.reduce((s, r) => s + r.stored, 0),
  }
  await stop(puller)
  await stop(source)
  return out
}

try {
  console.log(`arm64 (qemu-user) beside x64, N=${N}, ${STARTS} starts each; ${loadNote()}`)
  const startX64 = await startTimes('x64')
  const startArm = await startTimes('arm64')
  row('start, first boot (x64)', `${fmt(startX64.firstMs, 0)} ms`, `${fmt(startX64.firstCpu, 2)} CPU s`)
  row(
    'start, first boot (arm64/qemu)',
    `${fmt(startArm.firstMs, 0)} ms`,
    `${fmt(startArm.firstCpu, 2)} CPU s · ${fmt(startArm.firstCpu / startX64.firstCpu, 1)}x CPU`,
  )
  row('start, existing home (x64)', `${fmt(startX64.againMs, 0)} ms`, `${fmt(startX64.againCpu, 2)} CPU s`)
  row(
    'start, existing home (arm64/qemu)',
    `${fmt(startArm.againMs, 0)} ms`,
    `${fmt(startArm.againCpu, 2)} CPU s · ${fmt(startArm.againCpu / startX64.againCpu, 1)}x CPU`,
  )

  // One source home, filled once, copied so each source starts from the same file.
  const filled = join(root, 'filled')
  await fillHome(filled, { publicN: N, privateN: N })
  const copyOf = (name: string) => {
    const to = join(root, name)
    cpSync(filled, to, { recursive: true })
    return to
  }
  const x64FromX64 = await pull('x64', 'x64', copyOf('src-x64-a'))
  const armFromX64 = await pull('arm64', 'x64', copyOf('src-x64-b'))
  const x64FromArm = await pull('x64', 'arm64', copyOf('src-arm64'))
  for (const [name, r] of [
    ['x64 pulls from x64', x64FromX64],
    ['arm64 pulls from x64', armFromX64],
    ['x64 pulls from arm64', x64FromArm],
  ] as const) {
    if (r.stored !== N) throw new Error(`${name}: stored ${r.stored} of ${N}`)
    row(`pull ${N} (${name})`, `${fmt(r.ms, 0)} ms`, `puller ${fmt(r.pullerCpu, 2)} CPU s, source ${fmt(r.sourceCpu, 2)} CPU s`)
  }
  row('arm64 puller / x64 puller', `${fmt(armFromX64.ms / x64FromX64.ms, 2)}x wall`, `${fmt(armFromX64.pullerCpu / x64FromX64.pullerCpu, 2)}x puller CPU`)
  row('arm64 source / x64 source', `${fmt(x64FromArm.ms / x64FromX64.ms, 2)}x wall`, `${fmt(x64FromArm.sourceCpu / x64FromX64.sourceCpu, 2)}x source CPU`)
} finally {
  for (const p of started.splice(0)) await p.stop().catch(() => undefined)
  rmSync(root, { recursive: true, force: true })
}
