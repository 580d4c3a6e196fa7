/**
 * Rendezvous throughput and footprint over loopback HTTP.
 *
 *   npx bun bench/rendezvous.bench.ts [--requests 20000] [--concurrency 32] [--pods 10000]
 *
 * Each server runs in its own child process (this file with --child=…): a bare Bun.serve that
 * answers a constant JSON (the baseline: what HTTP on this machine costs at all) and the real
 * rendezvous (startRendezvous, real SQLite in a temp home). The same client loop drives both, so
 * the ratio rendezvous/baseline is what the rendezvous's own work costs. Registrations are signed
 * (proof of key possession: one X25519 + HKDF + HMAC to verify each), one token per pod. RSS is read from
 * /proc/<pid>/status of the server process.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { randomBytes, randomUUID } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { systemClock } from '../src/lib/clock'
import { createLogger } from '../src/lib/log'
import { createIdentity, loadOrCreateX25519KeyPair, type PodId } from '../src/identity'
import { openRendezvousStore, RENDEZVOUS_KEY_FILE, startRendezvous } from '../src/rendezvous'
import { signedRegistration } from '../src/sync/rendezvous-client'

const CHILD_FLAG = '--child='

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : fallback
}

async function child(kind: string, home: string): Promise<void> {
  if (kind === 'baseline') {
    const body = JSON.stringify({ peer_id: '00000000-0000-4000-8000-000000000000', url: 'http://127.0.0.1:8765', expires_at: new Date().toISOString() })
    const server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      async fetch(req) {
        if (req.method === 'POST') await req.text() // read the body as the rendezvous must
        return new Response(body, { headers: { 'content-type': 'application/json' } })
      },
    })
    console.log(JSON.stringify({ url: `http://127.0.0.1:${server.port}` }))
  } else {
    const service = await startRendezvous({ home, port: 0, host: '127.0.0.1', log: createLogger({ level: 'warn' }) })
    console.log(JSON.stringify({ url: service.url }))
    process.once('SIGTERM', () => service.close().then(() => process.exit(0)))
  }
}

interface Child {
  url: string
  pid: number
  stop(): Promise<void>
}

async function spawnChild(kind: string, home: string): Promise<Child> {
  const proc = Bun.spawn([process.execPath, import.meta.path, `${CHILD_FLAG}${kind}`, home], { stdout: 'pipe', stderr: 'inherit' })
  const reader = proc.stdout.getReader()
  let text = ''
  while (!text.includes('\n')) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`${kind} server exited before listening`)
    text += new TextDecoder().decode(value)
  }
  reader.releaseLock()
  const { url } = JSON.parse(text.split('\n')[0]!) as { url: string }
  return {
    url,
    pid: proc.pid,
    async stop() {
      proc.kill('SIGTERM')
      await proc.exited
    },
  }
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) / 1024 : NaN
}

interface Run {
  rps: number
  p50Ms: number
  p99Ms: number
  failures: number
}

/** `count` requests, `concurrency` at a time; `make(i)` builds request i. Non-2xx answers count as failures. */
async function drive(count: number, concurrency: number, make: (i: number) => [string, RequestInit?]): Promise<Run> {
  const latencies = new Float64Array(count)
  let next = 0
  let failures = 0
  const started = performance.now()
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const [url, init] = make(i)
      const t0 = performance.now()
      const res = await fetch(url, init)
      await res.arrayBuffer()
      latencies[i] = performance.now() - t0
      if (!res.ok) failures++
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  const seconds = (performance.now() - started) / 1000
  latencies.sort()
  return { rps: count / seconds, p50Ms: latencies[Math.floor(count * 0.5)]!, p99Ms: latencies[Math.floor(count * 0.99)]!, failures }
}

async function main(): Promise<void> {
  const requests = arg('requests', 20_000)
  const concurrency = arg('concurrency', 32)
  const podCount = arg('pods', 10_000)
  const dir = mkdtempSync(join(tmpdir(), 'mzm-rv-bench-'))
  const home = join(dir, 'rv')
  mkdirSync(home, { mode: 0o700 })
  // The key pair the rendezvous child will load, made first so the pods can sign for it.
  const rvKey = await loadOrCreateX25519KeyPair(join(home, RENDEZVOUS_KEY_FILE), RENDEZVOUS_KEY_FILE, 'bench')
  // One token per pod (as when each operator holds their own): a token may send 10 registrations/s.
  const db = openRendezvousStore(join(home, 'rendezvous.db'), systemClock)
  const tokens = Array.from({ length: podCount }, (_, i) => db.createToken(`bench ${i}`).token)
  db.close()

  // Each pod a real key pair with a signed registration (proof of possession), as pods send them.
  const pods = await Promise.all(
    Array.from({ length: podCount }, async (_, i) => {
      const id = randomUUID() as PodId
      const identity = await createIdentity({
        podId: id,
        name: 'bench',
        privateKey: randomBytes(32),
        vaultKey: randomBytes(32),
        adminToken: 'bench-admin-token',
      })
      const body = JSON.stringify(await signedRegistration(identity, rvKey.publicKey, `http://100.64.${(i >> 8) & 255}.${i & 255}:8765`, Date.now()))
      return { id, key: identity.publicKey, body, token: tokens[i]! }
    }),
  )
  const registerInit = (i: number): RequestInit => ({
    method: 'POST',
    headers: { authorization: `Bearer ${pods[i % podCount]!.token}`, 'content-type': 'application/json' },
    body: pods[i % podCount]!.body,
  })

  const results: Record<string, unknown> = { requests, concurrency, pods: podCount, bun: Bun.version }
  const fmt = (r: Run) =>
    `${Math.round(r.rps).toString().padStart(7)} req/s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms${r.failures ? `  FAILURES ${r.failures}` : ''}`
  try {
    const base = await spawnChild('baseline', home)
    await drive(2000, concurrency, () => [`${base.url}/`]) // warm-up
    const baseGet = await drive(requests, concurrency, () => [`${base.url}/api/peers/lookup/x`])
    const basePost = await drive(requests, concurrency, (i) => [`${base.url}/api/peers/register`, registerInit(i)])
    const baseRss = rssMiB(base.pid)
    await base.stop()

    const rv = await spawnChild('rendezvous', home)
    await drive(2000, concurrency, () => [`${rv.url}/healthz`]) // warm-up
    const idleRss = rssMiB(rv.pid)
    // The first podCount registrations create rows; the rest are heartbeats (refreshes), as in steady state.
    const register = await drive(requests, concurrency, (i) => [`${rv.url}/api/peers/register`, registerInit(i)])
    const lookup = await drive(requests, concurrency, (i) => {
      const p = pods[i % podCount]!
      return [`${rv.url}/api/peers/lookup/${p.id}`, { headers: { 'mzm-peer-key': p.key } }]
    })
    const heldRss = rssMiB(rv.pid)
    await rv.stop()

    Object.assign(results, {
      baseline_get: baseGet,
      baseline_post: basePost,
      baseline_rss_mib: baseRss,
      register,
      lookup,
      rendezvous_idle_rss_mib: idleRss,
      rendezvous_rss_mib_with_pods: heldRss,
      register_vs_baseline_post: register.rps / basePost.rps,
      lookup_vs_baseline_get: lookup.rps / baseGet.rps,
      rss_vs_baseline: heldRss / baseRss,
    })
    console.log(`rendezvous bench: ${requests} requests × concurrency ${concurrency}, ${podCount} pods, Bun ${Bun.version}`)
    console.log(`  baseline GET        ${fmt(baseGet)}`)
    console.log(`  baseline POST       ${fmt(basePost)}`)
    console.log(`  register            ${fmt(register)}   ratio ${(register.rps / basePost.rps).toFixed(2)} of baseline POST`)
    console.log(`  lookup              ${fmt(lookup)}   ratio ${(lookup.rps / baseGet.rps).toFixed(2)} of baseline GET`)
    console.log(`  RSS baseline        ${baseRss.toFixed(1)} MiB`)
    console.log(
      `  RSS rendezvous      ${idleRss.toFixed(1)} MiB idle, ${heldRss.toFixed(1)} MiB holding ${podCount} pods (ratio ${(heldRss / baseRss).toFixed(2)} of baseline)`,
    )
    const out = join(import.meta.dir, 'results')
    mkdirSync(out, { recursive: true })
    await Bun.write(join(out, 'rendezvous.json'), JSON.stringify(results, null, 2) + '\n')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const childArg = process.argv.find((a) => a.startsWith(CHILD_FLAG))
if (childArg) await child(childArg.slice(CHILD_FLAG.length), process.argv[process.argv.indexOf(childArg) + 1]!)
else await main()
