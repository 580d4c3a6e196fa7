/**
 * Running out of file descriptors: a server started with a hard open-file limit (LIMIT, default
 * 256) meets CONNS silent connections (default 480) from eight loopback addresses, held HOLD_S
 * seconds (default 10), then dropped. Measured per server: whether the process is still running
 * during and after the flood, its peak descriptor count, whether it answered a request during the
 * flood, how long after the flood ends it answers again, and (pods) whether the log names the
 * limit to raise.
 *
 * Baselines in the same run: a bare Bun.serve and a bare Deno.serve (each with nothing else to
 * do) under the same limit: what a server without the pod's guards does.
 *
 *   npx bun bench/fd-exhaustion.bench.ts
 *   LIMIT=1024 CONNS=2000 npx bun bench/fd-exhaustion.bench.ts
 */
import { readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { connect, type Socket } from 'node:net'
import { DENO, mainCommand, spawnListening, tempDir, tempHome, type TestRuntime } from '../test/helpers/pod-process'
import { row } from './_util'
import { envInt, loadNote } from './_fed-util'

const LIMIT = envInt('LIMIT', 256)
const CONNS = envInt('CONNS', 480)
const HOLD_S = envInt('HOLD_S', 10)
const ADDRESSES = 8
const RECOVER_WITHIN_MS = 20_000

interface Outcome {
  aliveDuring: boolean
  aliveAfter: boolean
  exitCode: number | null
  peakFds: number
  answeredDuring: boolean
  /** ms from dropping the flood to the first 200, or null if none within RECOVER_WITHIN_MS. */
  recoverMs: number | null
  loggedLimit: boolean | null
  tooManyOpenFiles: boolean
}

function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length
  } catch {
    return 0
  }
}

async function answers(url: string, timeoutMs = 2_000): Promise<boolean> {
  try {
    return (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(timeoutMs) })).status === 200
  } catch {
    return false
  }
}

function openSilent(url: string, from: string): Promise<Socket> {
  const { hostname, port } = new URL(url)
  const socket = connect({ host: hostname, port: Number(port), localAddress: from })
  socket.on('error', () => undefined)
  return new Promise((resolve) => {
    socket.once('connect', () => resolve(socket))
    socket.once('close', () => resolve(socket))
  })
}

async function measure(cmd: string[], isPod: boolean): Promise<Outcome> {
  // `ulimit -n` in sh sets the hard limit too, so the server cannot raise its own soft one.
  const { proc, url, logs } = await spawnListening(['sh', '-c', `ulimit -n ${LIMIT} && exec "$@"`, 'sh', ...cmd])
  try {
    let peakFds = fdCount(proc.pid)
    const sampler = setInterval(() => (peakFds = Math.max(peakFds, fdCount(proc.pid))), 100)
    const socks: Socket[] = []
    for (let i = 0; i < CONNS; i++) {
      socks.push(await openSilent(url, `127.0.3.${1 + (i % ADDRESSES)}`))
    }
    await Bun.sleep(Math.max(0, HOLD_S * 1000 - 2_000))
    const answeredDuring = await answers(url)
    const aliveDuring = proc.exitCode === null
    for (const s of socks) s.destroy()
    const dropped = performance.now()
    let recoverMs: number | null = null
    while (performance.now() - dropped < RECOVER_WITHIN_MS && proc.exitCode === null) {
      if (await answers(url, 1_000)) {
        recoverMs = performance.now() - dropped
        break
      }
      await Bun.sleep(100)
    }
    clearInterval(sampler)
    return {
      aliveDuring,
      aliveAfter: proc.exitCode === null,
      exitCode: proc.exitCode,
      peakFds,
      answeredDuring,
      recoverMs,
      loggedLimit: isPod ? /err=fd_exhausted.*LimitNOFILE=/.test(logs()) : null,
      tooManyOpenFiles: /too many open files/i.test(logs()),
    }
  } finally {
    if (proc.exitCode === null) proc.kill('SIGKILL')
    await proc.exited
  }
}

const bareBun = `
const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('ok') })
console.error('op=listen url=http://127.0.0.1:' + server.port)
`
const bareDeno = `
Deno.serve({ hostname: '127.0.0.1', port: 0, onListen: ({ port }) => console.error('op=listen url=http://127.0.0.1:' + port) }, () => new Response('ok'))
`

console.log(`# ${CONNS} silent connections from ${ADDRESSES} addresses for ${HOLD_S} s, hard open-file limit ${LIMIT} (${loadNote()})`)
using dir = tempDir('mzm-bench-fd-')
writeFileSync(join(dir.path, 'bare-bun.ts'), bareBun)
writeFileSync(join(dir.path, 'bare-deno.ts'), bareDeno)

const servers: { name: string; cmd: () => string[]; pod: boolean }[] = [
  { name: 'bare Bun.serve', cmd: () => [process.execPath, join(dir.path, 'bare-bun.ts')], pod: false },
  { name: 'bare Deno.serve', cmd: () => [DENO, 'run', '-A', join(dir.path, 'bare-deno.ts')], pod: false },
  ...(['binary', 'deno'] as TestRuntime[]).map((runtime) => ({
    name: runtime === 'deno' ? 'pod under Deno' : 'pod binary (Bun)',
    cmd: () => [...mainCommand(runtime), 'serve', '--home', tempHome('mzm-bench-fd-home-'), '--port', '0'],
    pod: true,
  })),
]

for (const s of servers) {
  const cmd = s.cmd()
  const o = await measure(cmd, s.pod)
  if (s.pod) rmSync(cmd[cmd.indexOf('--home') + 1]!, { recursive: true, force: true })
  const state = o.aliveAfter ? 'running' : `EXITED (code ${o.exitCode})`
  row(`${s.name}: process after the flood`, state, o.aliveDuring ? 'running during it' : 'gone during it')
  row(`${s.name}: peak descriptors`, `${o.peakFds}`, `limit ${LIMIT}`)
  row(`${s.name}: answered during the flood`, o.answeredDuring ? 'yes' : 'no')
  row(`${s.name}: answers again after the flood`, o.recoverMs === null ? 'NEVER (within 20 s)' : `after ${Math.round(o.recoverMs)} ms`)
  if (o.loggedLimit !== null) row(`${s.name}: log names the limit to raise`, o.loggedLimit ? 'yes' : 'NO')
  row(`${s.name}: 'Too many open files' in its output`, o.tooManyOpenFiles ? 'yes' : 'no')
}
