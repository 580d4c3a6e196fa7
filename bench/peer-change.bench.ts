/**
 * A live peer's settings changed, then the next matching write: how long until it arrives?
 * Pod A is a real pod process (MAZEMAKER_LIVE_WAIT=50); pod B runs in this process (startPod: its
 * HTTP server, store and live sync loop) so its commit listener timestamps the copy's arrival.
 * B pulls A live with scope `public:bench*`.
 *
 * Two kinds of trial, alternating, each from the same steady state (B's long-poll held at A):
 *   plain:  POST /memories at A → the copy committed at B (a live write, the baseline).
 *   scope:  PATCH B's peer A with a new scope, alternating widened (`public:bench*` →
 *           `public:bench*, public:other*`) and narrowed (back): both match the write. Then
 *           POST /memories at A as soon as the PATCH answered → the copy committed at B.
 *           Measured from the PATCH sent. A widened scope restarts the pull from the beginning,
 *           so each widened trial also pulls again the earlier trials' memories (≤ 2 × TRIALS);
 *           a narrowed one keeps the cursor and is held again at once.
 *
 *   npx bun bench/peer-change.bench.ts            # TRIALS=100 of each
 *   TRIALS=20 npx bun bench/peer-change.bench.ts  # smoke run
 */
import { readFileSync, rmSync } from 'node:fs'
import { writeFileAtomic } from '../src/lib/atomic-file'
import { join } from 'node:path'
import { createLogger } from '../src/lib/log'
import { startPod } from '../src/pod'
import { spawnPod, tempHome } from '../test/helpers/pod-process'
import { envInt, identityOf, loadNote } from './_fed-util'
import { fmt, percentile, row } from './_util'

const TRIALS = envInt('TRIALS', 100)
const TRIAL_TIMEOUT_MS = 60_000
const SCOPES = [['public:bench*'], ['public:bench*', 'public:other*']]

const now = () => performance.timeOrigin + performance.now()

function describe(lat: number[]): string {
  const s = [...lat].sort((a, b) => a - b)
  return `p50 ${fmt(percentile(s, 50), 2)} ms, p99 ${fmt(percentile(s, 99), 2)} ms, max ${fmt(s[s.length - 1]!, 1)} ms`
}

async function main(): Promise<void> {
  console.log(`# a live peer's scope changed, then a write: arrival beside a plain live write (Bun ${Bun.version}; ${loadNote()})`)
  const a = await spawnPod({ home: tempHome('mzm-change-a-'), env: { MAZEMAKER_LIVE_WAIT: '50' } })
  const bHome = tempHome('mzm-change-b-')
  const b = await startPod({ home: bHome, port: 0, host: '127.0.0.1', log: createLogger({ level: 'warn' }), liveWaitSeconds: 50 })
  const bToken = readFileSync(join(bHome, 'admin.token'), 'utf8').trim()
  const bApi = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(b.url + path, {
      method,
      headers: { authorization: `Bearer ${bToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${await res.text()}`)
    return res.json()
  }
  // The measured moment: B commits the copy (pulled copies reach a listener that asks for them).
  let expecting: { token: string; arrived: (at: number) => void } | null = null
  b.store.onCommit(
    (changes) => {
      const e = expecting
      if (e && changes.some((c) => c.op === 'insert' && c.origin_peer !== null && c.label.endsWith(`:${e.token}`))) e.arrived(now())
    },
    { copies: true },
  )
  const held = async () => {
    const res = await fetch(`${a.url}/metrics`, { headers: { authorization: `Bearer ${a.token()}` } })
    return Number(/^mazemaker_live_held_requests (\d+)/m.exec(await res.text())?.[1] ?? 0)
  }
  const untilHeld = async () => {
    const t = performance.now()
    while ((await held()) !== 1) {
      if (performance.now() - t > TRIAL_TIMEOUT_MS) throw new Error("B's long-poll is not held at A")
      await Bun.sleep(2)
    }
  }
  /** Runs `act`, then resolves with the time the copy labelled `token` arrived at B. */
  const arrival = (token: string, act: () => Promise<void>) =>
    new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${token} never arrived at B`)), TRIAL_TIMEOUT_MS)
      expecting = {
        token,
        arrived: (at) => {
          clearTimeout(timer)
          expecting = null
          resolve(at)
        },
      }
      act().catch(reject)
    })
  const write = async (label: string) => {
    const res = await a.api('POST', '/memories', { label, content: `bench write ${label}` })
    if (res.status !== 201) throw new Error(`POST /memories → ${res.status}`)
  }
  try {
    const aId = await identityOf(a)
    await a.api('POST', '/peer/add', { handshake_url: b.home.identity.handshakeUrl(), direct_url: b.url, sync: false })
    await bApi('POST', '/peer/add', { handshake_url: aId.handshake_url, direct_url: a.url, scope: SCOPES[0] })
    await untilHeld()

    const plain: number[] = []
    // By kind of change: widened (even trials) and narrowed (odd trials).
    const changed: [number[], number[]] = [[], []]
    const writeAfterChange: [number[], number[]] = [[], []]
    const patchMs: number[] = []
    for (let k = 0; k < TRIALS; k++) {
      await untilHeld()
      const t0 = now()
      plain.push((await arrival(`public:bench-plain-${k}`, () => write(`public:bench-plain-${k}`))) - t0)

      await untilHeld()
      const label = `public:bench-scope-${k}`
      let written = 0
      const t1 = now()
      const at = await arrival(label, async () => {
        await bApi('PATCH', `/peer/peers/${aId.pod_id}`, { scope: SCOPES[(k + 1) % 2] })
        written = now()
        patchMs.push(written - t1)
        await write(label)
      })
      changed[k % 2]!.push(at - t1)
      writeAfterChange[k % 2]!.push(at - written)
    }
    console.log(`\n## ${TRIALS} trials of each, alternating, B's long-poll held at A before each`)
    row('plain live write → copy at B', describe(plain))
    row('scope change: PATCH answered', describe(patchMs), 'peers.toml written and fsynced, the pull in flight stopped')
    // The durable part of the PATCH alone: peers.toml's bytes written the same way beside it.
    const toml = readFileSync(join(bHome, 'peers.toml'))
    const fsynced: number[] = []
    for (let i = 0; i < 100; i++) {
      const t = now()
      writeFileAtomic(join(bHome, 'peers-bench.toml'), toml)
      fsynced.push(now() - t)
    }
    row('  peers.toml written + fsynced alone', describe(fsynced), 'temp file, fsync, rename, fsync of the directory')
    const p50 = (xs: number[]) =>
      percentile(
        [...xs].sort((x, y) => x - y),
        50,
      )
    for (const [i, kind] of [
      [0, 'widened'],
      [1, 'narrowed'],
    ] as const) {
      row(`scope ${kind} → next matching write at B`, describe(changed[i]), 'from the PATCH sent')
      row('  of which: write → copy at B', describe(writeAfterChange[i]), 'from the write sent, after the PATCH answered')
      row('  ratio p50 write → copy to plain', `${fmt(p50(writeAfterChange[i]) / p50(plain), 2)}x`)
    }
    console.log(`\n(${loadNote()})`)
  } finally {
    await b.close()
    await a.stop().catch(() => undefined)
    rmSync(bHome, { recursive: true, force: true })
    rmSync(a.home, { recursive: true, force: true })
  }
}

await main()
