/**
 * What hostile peers cost on the wire, each against a baseline in the same run:
 *
 * 1. Serving N shareable memories (the whole change feed, 500 per page, as /peer/sync does) to
 *    the worst scope a peer may send (16 globs of up to 128 characters; 15 adversarial ones
 *    first, `public:*` last so the same rows are served) vs to `public:*`. Target ≤ 2x.
 * 2. A puller (real pod process) whose peer answers with a 1 GiB chunked body: its peak RSS
 *    (VmHWM) during the pull vs its idle RSS. Target < 150 MB.
 * 3. 300 connections sending slow unauthenticated 1 MiB bodies (chunked and declared) to an
 *    admin route and to /peer/sync: the pod's peak RSS vs idle.
 *
 *   npx bun bench/hostile-wire.bench.ts
 *   N=20000 npx bun bench/hostile-wire.bench.ts     # smoke run
 */
import { rmSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { formatHandshakeUrl } from '../src/identity'
import { systemClock } from '../src/lib/clock'
import { GLOB_MAX_CHARS, SCOPE_MAX_GLOBS } from '../src/protocol'
import { openStore } from '../src/store'
import { PAGE_LIMIT } from '../src/sync/constants'
import { spawnPod, tempHome } from '../test/helpers/pod-process'
import { fmt, peakRssMb, row, rssMb } from './_util'
import { addPeer, envInt, fillHome, openBenchHome, resetPeakRss } from './_fed-util'

const N = envInt('N', 100_000)
const MiB = 1024 * 1024

/**
 * Adversarial globs against labels like `public:m12345`: stars, `?` runs, late mismatches; four
 * that remember where a digit sat among a label's last characters (a new state of the scope's
 * DFA per number: src/scope/glob-dfa.ts); all distinct (duplicates count once). The last glob
 * matches every label, so the same rows are served, but only at the label's end: `public:*?`,
 * not `public:*`, which any matcher settles after 7 characters.
 */
function worstScope(): string[] {
  const shapes = [
    `${'*'.repeat(17)}#`, // the row-1 attack
    `*${'?'.repeat(5)}x*`,
    '*?1?2?3?*?4?5?*',
    `public:*${'?*'.repeat(20)}#`,
    `*${'m*'.repeat(40)}`,
    `p*u*b*l*i*c*:*m*${'?*'.repeat(30)}`,
    `*${'a?'.repeat(63)}`,
  ]
  const varied = Array.from({ length: 11 }, (_, i) => (i < shapes.length ? shapes[i]! : `*${shapes[i % shapes.length]!}`).slice(0, GLOB_MAX_CHARS))
  const remembering = Array.from({ length: 4 }, (_, d) => `*${d}???`)
  const globs = [...varied, ...remembering, 'public:*?']
  if (globs.length !== SCOPE_MAX_GLOBS || new Set(globs).size !== globs.length) throw new Error('worst scope drifted')
  return globs
}

async function scopeCost(): Promise<void> {
  const home = tempHome('mzm-bench-scope-')
  try {
    const h = await fillHome(home, { publicN: N, privateN: 0 })
    const store = openStore({
      path: h.paths.db,
      vaultKey: h.identity.vaultKey,
      publicPrefixes: h.config.public_prefixes,
      maxContentBytes: h.config.max_content_bytes,
      clock: systemClock,
    })
    const serveAll = (scope: string[]) => {
      const t = performance.now()
      let served = 0
      let since: string | null = null
      for (;;) {
        const page = store.changesSince(since, scope, PAGE_LIMIT)
        // Encode as the route does: the scope's cost is measured inside the real work.
        served += (JSON.parse(JSON.stringify(page.memories)) as unknown[]).length
        if (!page.more) break
        since = page.cursor
      }
      return { ms: performance.now() - t, served }
    }
    const worst = worstScope()
    serveAll(['public:*']) // warm the page cache
    const runs = { base: [] as number[], worst: [] as number[] }
    for (let i = 0; i < 3; i++) {
      runs.base.push(serveAll(['public:*']).ms)
      const w = serveAll(worst)
      if (w.served !== N) throw new Error(`worst scope served ${w.served} of ${N}`)
      runs.worst.push(w.ms)
    }
    store.close()
    const base = Math.min(...runs.base)
    const bad = Math.min(...runs.worst)
    row(`serve ${N} memories, scope public:*`, `${fmt(base, 0)} ms`, 'baseline')
    row(`serve ${N}, worst scope (${worst.length} globs)`, `${fmt(bad, 0)} ms`, `${fmt(bad / base, 2)}x (target <= 2x)`)
  } finally {
    rmSync(home, { recursive: true, force: true })
  }
}

async function pullerRss(): Promise<void> {
  const chunk = new Uint8Array(64 * 1024).fill(0x20)
  let sent = 0
  const hostile = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: () =>
      new Response(
        new ReadableStream<Uint8Array>({
          pull(ctrl) {
            if (sent >= 1024 * MiB) return ctrl.close()
            sent += chunk.byteLength
            ctrl.enqueue(chunk)
          },
        }),
        { headers: { 'content-type': 'application/json' } },
      ),
  })
  const fakeHome = tempHome('mzm-bench-fake-')
  const pod = await spawnPod()
  try {
    const fake = (await openBenchHome(fakeHome)).identity
    await addPeer(pod, formatHandshakeUrl({ podId: fake.podId, key: fake.publicKey }), { direct_url: `http://127.0.0.1:${hostile.port}` })
    await Bun.sleep(500)
    const idle = rssMb(pod.pid)
    resetPeakRss(pod.pid)
    const res = await pod.api('POST', '/peer/sync-now', {})
    const result = res.body.results[0] as { ok: boolean; error?: string }
    const peak = peakRssMb(pod.pid)
    row('puller idle RSS', `${fmt(idle)} MB`, 'baseline')
    row(
      'puller peak RSS, 1 GiB chunked answer',
      `${fmt(peak)} MB`,
      `+${fmt(peak - idle)} MB; error=${result.error}; sent before hang-up ${fmt(sent / MiB, 0)} MiB (target < 150 MB)`,
    )
  } finally {
    await pod.stop()
    hostile.stop(true)
    rmSync(pod.home, { recursive: true, force: true })
    rmSync(fakeHome, { recursive: true, force: true })
  }
}

async function slowBodies(mode: { path: string; chunked: boolean }): Promise<void> {
  const CONNS = 300
  const pod = await spawnPod()
  const socks: Socket[] = []
  try {
    await Bun.sleep(500)
    const idle = rssMb(pod.pid)
    resetPeakRss(pod.pid)
    const port = Number(new URL(pod.url).port)
    const bearer = `Bearer mzm1.6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f.${Math.floor(Date.now() / 1000)}.${'A'.repeat(22)}.${'A'.repeat(43)}`
    let answered = 0
    for (let i = 0; i < CONNS; i++) {
      const s = connect(port, '127.0.0.1')
      s.on('error', () => {})
      s.once('data', () => answered++)
      s.write(
        `POST ${mode.path} HTTP/1.1\r\nHost: x\r\nAuthorization: ${mode.path === '/peer/sync' ? bearer : 'Bearer wrong'}\r\n` +
          `Content-Type: application/json\r\n${mode.chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${MiB}`}\r\n\r\n`,
      )
      socks.push(s)
    }
    const piece = Buffer.alloc(64 * 1024, 0x61)
    for (let step = 0; step < MiB / piece.length; step++) {
      for (const s of socks) {
        if (s.destroyed) continue
        if (mode.chunked) s.write(`${piece.length.toString(16)}\r\n`)
        s.write(piece)
        if (mode.chunked) s.write('\r\n')
      }
      await Bun.sleep(100)
    }
    await Bun.sleep(500)
    const peak = peakRssMb(pod.pid)
    const what = `${CONNS} slow 1 MiB ${mode.chunked ? 'chunked' : 'declared'} bodies, ${mode.path}`
    row(what, `${fmt(peak)} MB`, `idle ${fmt(idle)} MB, +${fmt(peak - idle)} MB; answered before the body: ${answered}/${CONNS}`)
  } finally {
    for (const s of socks) s.destroy()
    await pod.stop()
    rmSync(pod.home, { recursive: true, force: true })
  }
}

await scopeCost()
await pullerRss()
for (const path of ['/memories', '/peer/sync']) for (const chunked of [true, false]) await slowBodies({ path, chunked })
