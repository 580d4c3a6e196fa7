/**
 * A pod with one hostile paired peer holding long-polls at its cap, against the same pod with no
 * peer asking (contract Part 1c: at most 2 held per peer, bounded matcher memory, a commit's
 * wake work independent of hostile scopes). A real pod process; the peer sends FLOOD signed,
 * sealed /peer/sync requests with `wait: 50` at once over raw sockets (fetch runs at most 256 at
 * a time), each with a scope of its own (16 distinct globs that never match and make a scope
 * matcher learn a state per label), then keeps asking at REASK_PER_S (about what the per-peer
 * nonce cap of 20,000 per 600 s allows) with new scopes, while the operator writes WRITES
 * memories through the local API. Printed, for both phases: write latency p50/p99 (wall, from
 * this process), the pod's CPU seconds per write (/proc, the steadier measure on a shared
 * machine), its RSS, and each hostile / no-peer ratio; plus how many flood requests were
 * answered and how many the pod holds (its /metrics gauge).
 *
 *   npx bun bench/long-poll-flood.bench.ts
 *   FLOOD=300 WRITES=100 npx bun bench/long-poll-flood.bench.ts   # smoke run
 */
import { connect } from 'node:net'
import { rmSync } from 'node:fs'
import type { PodId, PublicKey } from '../src/identity'
import { sealSyncRequest } from '../src/protocol'
import { spawnPod, tempHome, type PodProcess } from '../test/helpers/pod-process'
import { fmt, percentile, rssMb, row } from './_util'
import { addPeer, cpuSeconds, envInt, identityOf, loadNote, openBenchHome } from './_fed-util'

const FLOOD = envInt('FLOOD', 1500)
const WRITES = envInt('WRITES', 300)
const REASK_PER_S = envInt('REASK_PER_S', 30)
const WAIT_S = 50
/** A cursor past anything written here: every delta is empty, so every request is held (the worst case). */
const AHEAD = String(1e12)

/** 16 distinct globs that need a `#` (no label here has one), remembering where a digit sat. */
function hostileScope(i: number): string[] {
  return Array.from({ length: 16 }, (_, g) => `*${(i + g) % 10}${'?'.repeat(3 + (g % 5))}${i}-${g}*#`)
}

/** POST over a fresh TCP connection; resolves with the status code once the answer is complete (or null if cut). */
function rawPost(url: string, path: string, headers: Record<string, string>, body: Uint8Array): Promise<number | null> {
  const u = new URL(url)
  return new Promise((resolve) => {
    const socket = connect({ host: u.hostname, port: Number(u.port) })
    let text = ''
    socket.on('error', () => resolve(null))
    socket.on('data', (d) => (text += d.toString('latin1')))
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0) || null))
    const head = [
      `POST ${path} HTTP/1.1`,
      `host: ${u.host}`,
      'connection: close',
      `content-length: ${body.length}`,
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      '',
      '',
    ].join('\r\n')
    socket.write(head)
    socket.write(body)
  })
}

async function writes(pod: PodProcess, from: number): Promise<{ ms: number[]; cpuPerWrite: number }> {
  const cpu0 = cpuSeconds(pod.pid)
  const ms: number[] = []
  for (let i = from; i < from + WRITES; i++) {
    const t = performance.now()
    const res = await pod.api('POST', '/memories', { label: `public:n${String(i * 7919).padStart(9, '0')}`, content: `note ${i}` })
    ms.push(performance.now() - t)
    if (res.status !== 201) throw new Error(`write ${i}: ${res.status}`)
  }
  return { ms: ms.sort((a, b) => a - b), cpuPerWrite: (cpuSeconds(pod.pid) - cpu0) / WRITES }
}

async function heldGauge(pod: PodProcess): Promise<string> {
  const res = await fetch(`${pod.url}/metrics`, { headers: { authorization: `Bearer ${pod.token()}` } })
  return /^mazemaker_live_held_requests (\d+)/m.exec(await res.text())?.[1] ?? '?'
}

async function main() {
  console.log(
    `# long-poll flood: one paired peer, ${FLOOD} requests at once then ${REASK_PER_S}/s, ${WRITES} local writes per phase (Bun ${Bun.version}; ${loadNote()})`,
  )
  const home = tempHome('mzm-bench-flood-')
  const callerHome = tempHome('mzm-bench-flood-caller-')
  const caller = await openBenchHome(callerHome)
  const pod = await spawnPod({ home })
  try {
    const id = await identityOf(pod)
    await addPeer(pod, caller.identity.handshakeUrl(), { sync: false })
    const pairKey = await caller.identity.pairKey(id.pod_id as PodId, id.key as PublicKey)
    let n = 0
    const ask = () => {
      const i = n++
      const sent = sealSyncRequest({
        pairKey,
        callerId: caller.identity.podId,
        calleeId: id.pod_id as PodId,
        request: { since: AHEAD, scope: hostileScope(i), limit: 100, wait: WAIT_S },
        nowMs: Date.now(),
      })
      return rawPost(pod.url, '/peer/sync', sent.headers, sent.body)
    }

    // Warm-up writes, then the phase with no peer asking.
    await writes(pod, 0)
    const quiet = await writes(pod, WRITES)
    const quietRss = rssMb(pod.pid)

    // The flood: FLOOD at once, then a steady trickle of new scopes (each answers the oldest held).
    let answered = 0
    const statuses = new Map<string, number>()
    const count = (s: number | null) => {
      answered++
      statuses.set(String(s), (statuses.get(String(s)) ?? 0) + 1)
    }
    const flood = Array.from({ length: FLOOD }, () => ask().then(count))
    const t0 = performance.now()
    while (answered < FLOOD - 2 && performance.now() - t0 < 40_000) await Bun.sleep(50)
    const floodAnsweredMs = performance.now() - t0
    const floodAnswered = answered
    let trickling = true
    const trickle = (async () => {
      while (trickling) {
        void ask().then(count)
        await Bun.sleep(1000 / REASK_PER_S)
      }
    })()
    const hostile = await writes(pod, 2 * WRITES)
    const hostileRss = rssMb(pod.pid)
    const held = await heldGauge(pod)
    trickling = false
    await trickle

    row(
      'flood answered (of FLOOD, 2 may stay held)',
      `${floodAnswered}/${FLOOD}`,
      `in ${fmt(floodAnsweredMs / 1000, 2)} s; statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
    )
    row('held by the pod during the hostile writes', held, 'metrics gauge mazemaker_live_held_requests')
    for (const [name, q, h] of [
      ['write p50 (ms)', percentile(quiet.ms, 50), percentile(hostile.ms, 50)],
      ['write p99 (ms)', percentile(quiet.ms, 99), percentile(hostile.ms, 99)],
      ['pod CPU per write (ms)', quiet.cpuPerWrite * 1000, hostile.cpuPerWrite * 1000],
      ['pod RSS (MB)', quietRss, hostileRss],
    ] as const) {
      row(name, `${fmt(q, 2)} → ${fmt(h, 2)}`, `hostile / no peer ${fmt(h / q, 2)}x`)
    }
    void flood
  } finally {
    await pod.stop()
    rmSync(home, { recursive: true, force: true })
    rmSync(callerHome, { recursive: true, force: true })
  }
}

await main()
