/**
 * Round trip of a rendezvous lookup + a one-memory sync on loopback, beside the same sync with a
 * direct URL (no lookup), in the same run.
 *
 *   npx bun bench/rendezvous-roundtrip.bench.ts [--trials 200]
 *
 * Three processes: `mazemaker rendezvous` and two pods (A, B) joined to it and paired by
 * handshake only, so B knows A as `mzm-rendezvous://<A>`. One trial is:
 *   rendezvous: GET /api/peers/lookup/<A> with A's key (fresh: the pod's resolver would cache it
 *               for 240 s, so the bench calls the route itself, exactly as the resolver does)
 *               → POST /memories on A → POST /peer/sync-now {peer: A} on B (one memory stored)
 *   direct:     POST /memories on A → POST /peer/sync-now on B, with B's entry for A set to A's
 *               direct URL (PATCH between blocks, outside the timing)
 * Blocks alternate (rendezvous, direct, rendezvous, direct) so drift hits both alike. Every trial
 * checks what it measured: the lookup names A's URL and the sync stored exactly one memory.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { openHome } from '../src/identity'
import { savePodConfig } from '../src/config'
import { systemClock } from '../src/lib/clock'
import { memoryLogger } from '../src/lib/log'
import { openRendezvousStore, RENDEZVOUS_DB_FILE } from '../src/rendezvous'
import { MAIN, ROOT, spawnPod, testEnv, type PodProcess } from '../test/helpers/pod-process'
import { fmt, percentile, row } from './_util'

const TRIALS = arg('trials', 200)
const BLOCKS = 4 // alternating rendezvous / direct blocks
const WARMUP = 20

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : fallback
}

async function spawnRendezvous(home: string): Promise<{ url: string; proc: Subprocess<'ignore', 'ignore', 'pipe'> }> {
  const proc = Bun.spawn([process.execPath, MAIN, 'rendezvous', '--home', home, '--port', '0', '--host', '127.0.0.1'], {
    cwd: ROOT,
    env: testEnv(),
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'pipe',
  })
  let text = ''
  const url = await new Promise<string>((resolve, reject) => {
    void (async () => {
      // Keep draining stderr after op=listen: a closed pipe would kill the service at its next log line.
      const decoder = new TextDecoder()
      for await (const chunk of proc.stderr) {
        text += decoder.decode(chunk)
        const m = /op=listen url=(\S+)/.exec(text)
        if (m) resolve(m[1]!)
      }
      reject(new Error(`rendezvous exited before listening:\n${text}`))
    })()
  })
  return { url, proc }
}

async function joinedHome(dir: string, name: string, url: string, token: string): Promise<string> {
  const home = join(dir, name)
  const h = await openHome(home, { log: memoryLogger() })
  savePodConfig(h.paths.podToml, { ...h.config, rendezvous: { url, token } })
  return home
}

async function waitRegistered(pod: PodProcess): Promise<void> {
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    if ((await pod.api('GET', '/status')).body.rendezvous?.registered) return
    await Bun.sleep(10)
  }
  throw new Error(`pod ${pod.url} never registered:\n${pod.logs()}`)
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mzm-rv-roundtrip-'))
  const rvHome = join(dir, 'rendezvous')
  mkdirSync(rvHome, { mode: 0o700 })
  const db = openRendezvousStore(join(rvHome, RENDEZVOUS_DB_FILE), systemClock)
  const { token } = db.createToken('bench')
  db.close()

  const rv = await spawnRendezvous(rvHome)
  const pods: PodProcess[] = []
  try {
    const [a, b] = await Promise.all([
      joinedHome(dir, 'a', rv.url, token).then((home) => spawnPod({ home })),
      joinedHome(dir, 'b', rv.url, token).then((home) => spawnPod({ home })),
    ])
    pods.push(a, b)
    await Promise.all([waitRegistered(a), waitRegistered(b)])
    const idA = (await a.api('GET', '/peer/identity')).body as { pod_id: string; key: string; handshake_url: string }
    const idB = (await b.api('GET', '/peer/identity')).body as { handshake_url: string }
    // Handshake only: each records the other as mzm-rendezvous://<id>.
    for (const [from, hs] of [
      [a, idB.handshake_url],
      [b, idA.handshake_url],
    ] as const) {
      const res = await from.api('POST', '/peer/add', { handshake_url: hs })
      if (res.status !== 201 || !String(res.body.peer.url).startsWith('mzm-rendezvous://')) throw new Error(`pairing failed: ${JSON.stringify(res.body)}`)
    }
    const rendezvousUrl = `mzm-rendezvous://${idA.pod_id}`
    const setUrl = async (url: string) => {
      const res = await b.api('PATCH', `/peer/peers/${idA.pod_id}`, { url })
      if (res.status !== 200) throw new Error(`PATCH failed: ${JSON.stringify(res.body)}`)
    }

    let n = 0
    const writeAndSync = async () => {
      const w = await a.api('POST', '/memories', { label: `public:bench-${n++}`, content: `one memory for trial ${n}` })
      if (w.status !== 201) throw new Error(`remember failed: ${JSON.stringify(w.body)}`)
      const s = await b.api('POST', '/peer/sync-now', { peer: idA.pod_id })
      const r = s.body.results?.[0]
      if (!r?.ok || r.stored !== 1) throw new Error(`sync did not store exactly one memory: ${JSON.stringify(s.body)}`)
    }
    const lookupTimes: number[] = []
    const lookup = async () => {
      const t = performance.now()
      const res = await fetch(`${rv.url}/api/peers/lookup/${idA.pod_id}`, { headers: { 'mzm-peer-key': idA.key } })
      const body = (await res.json()) as { url?: string }
      lookupTimes.push(performance.now() - t)
      if (res.status !== 200 || body.url !== a.url) throw new Error(`lookup answered ${res.status} ${JSON.stringify(body)}`)
    }
    const trial = async (viaRendezvous: boolean): Promise<number> => {
      const t = performance.now()
      if (viaRendezvous) await lookup()
      await writeAndSync()
      return performance.now() - t
    }

    // Warm-up both paths (JIT, connection pools, SQLite caches); not recorded.
    await setUrl(rendezvousUrl)
    for (let i = 0; i < WARMUP; i++) await trial(true)
    await setUrl(a.url)
    for (let i = 0; i < WARMUP; i++) await trial(false)
    lookupTimes.length = 0

    const viaRendezvous: number[] = []
    const direct: number[] = []
    const perBlock = Math.ceil(TRIALS / (BLOCKS / 2))
    for (let block = 0; block < BLOCKS; block++) {
      const rendezvousBlock = block % 2 === 0
      await setUrl(rendezvousBlock ? rendezvousUrl : a.url)
      const out = rendezvousBlock ? viaRendezvous : direct
      for (let i = 0; i < perBlock && out.length < TRIALS; i++) out.push(await trial(rendezvousBlock))
    }

    const sorted = (xs: number[]) => [...xs].sort((x, y) => x - y)
    const stats = (xs: number[]) => {
      const s = sorted(xs)
      return { p50_ms: percentile(s, 50), p99_ms: percentile(s, 99), max_ms: s[s.length - 1]!, trials: s.length }
    }
    const rvStats = stats(viaRendezvous)
    const directStats = stats(direct)
    const lookupStats = stats(lookupTimes)
    console.log(`rendezvous round trip on loopback: ${TRIALS} trials each, Bun ${Bun.version}`)
    row('lookup + write + one-memory sync (p50 / p99)', `${fmt(rvStats.p50_ms, 2)} / ${fmt(rvStats.p99_ms, 2)} ms`, `max ${fmt(rvStats.max_ms, 2)} ms`)
    row(
      'baseline: write + sync, direct URL (p50 / p99)',
      `${fmt(directStats.p50_ms, 2)} / ${fmt(directStats.p99_ms, 2)} ms`,
      `max ${fmt(directStats.max_ms, 2)} ms`,
    )
    row('  of which the lookup alone (p50 / p99)', `${fmt(lookupStats.p50_ms, 2)} / ${fmt(lookupStats.p99_ms, 2)} ms`)
    row('rendezvous p50 - baseline p50', `${fmt(rvStats.p50_ms - directStats.p50_ms, 2)} ms`, 'reference claim: round trip under 200 ms on a LAN')

    const out = join(import.meta.dir, 'results')
    mkdirSync(out, { recursive: true })
    await Bun.write(
      join(out, 'rendezvous-roundtrip.json'),
      JSON.stringify({ trials: TRIALS, bun: Bun.version, rendezvous_lookup_and_sync: rvStats, direct_sync: directStats, lookup: lookupStats }, null, 2) + '\n',
    )
  } finally {
    await Promise.all(pods.map((p) => p.stop()))
    rv.proc.kill('SIGTERM')
    await rv.proc.exited
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
