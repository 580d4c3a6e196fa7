/**
 * Real pods as real processes: spawn `mazemaker serve` on an ephemeral loopback port with a temp
 * home, wait for its `op=listen` line, and end exactly the processes we started, by PID.
 *
 * Under Bun they run as the compiled binary, dist/mazemaker (rebuilt first when older than src/,
 * see ./binary): it is what operators download, and it starts in a fraction of the CPU time of
 * `bun src/main.ts`, which loads every module from source on each of the ~400 spawns of a pass.
 * MZM_TEST_RUNTIME=bun-source runs `bun src/main.ts` instead; MZM_TEST_RUNTIME=deno runs
 * `deno run -A src/main.ts` (deno.json supplies sloppy imports and node_modules): scripts/test.sh
 * runs test/integration once more that way.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { freshBinary, ROOT } from './binary'

export { ROOT }
export const MAIN = join(ROOT, 'src', 'main.ts')
export const DENO = join(ROOT, 'node_modules', '.bin', 'deno')
/** How a pod runs: the compiled binary, src/main.ts under Bun, or src/main.ts under Deno. */
export type TestRuntime = 'binary' | 'bun' | 'deno'
/** What pods of this test run use (MZM_TEST_RUNTIME=bun-source|deno; default the binary). */
export const TEST_RUNTIME: TestRuntime = ((v) => (v === 'deno' ? 'deno' : v === 'bun-source' ? 'bun' : 'binary'))(process.env.MZM_TEST_RUNTIME)

/** The argv that runs the pod under `runtime` (default: this run's); append the subcommand. */
export function mainCommand(runtime: TestRuntime = TEST_RUNTIME): string[] {
  if (runtime === 'deno') return [DENO, 'run', '-A', MAIN]
  if (runtime === 'bun') return [process.execPath, MAIN]
  return [freshBinary()]
}
const STARTUP_TIMEOUT_MS = 20_000

/** The test's environment without MAZEMAKER_* variables (they would override --home/--port), plus `extra`. */
export function testEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('MAZEMAKER_') && k !== 'MZM_TEST_RUNTIME') env[k] = v
  // Live long-polls are off unless a test asks for them (test/live/): the other tests assert
  // what one explicit sync pulls, which a background long-poll would already have pulled.
  return { ...env, MAZEMAKER_LIVE_WAIT: '0', ...extra }
}

export function tempHome(prefix = 'mzm-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

/** A fresh temp directory removed when its `using` scope ends (`using dir = tempDir()`; `dir.path`). */
export function tempDir(prefix = 'mzm-test-'): { path: string } & Disposable {
  const path = tempHome(prefix)
  return { path, [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }) }
}

/**
 * Spawns `cmd` (a pod or a rendezvous) and resolves once it logs `op=listen url=…`, with its
 * stderr collected so far and from then on.
 */
export async function spawnListening(cmd: string[], env?: Record<string, string>, opts: { cwd?: string; netns?: string; startupTimeoutMs?: number } = {}) {
  const startupTimeoutMs = opts.startupTimeoutMs ?? STARTUP_TIMEOUT_MS
  // `ip netns exec` enters the namespace and execs the command, so proc.pid is the command itself.
  if (opts.netns) cmd = ['ip', 'netns', 'exec', opts.netns, ...cmd]
  const proc = Bun.spawn(cmd, { cwd: opts.cwd ?? ROOT, env: testEnv(env), stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  let stderr = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd.join(' ')} did not start within ${startupTimeoutMs} ms:\n${stderr}`)), startupTimeoutMs)
    void (async () => {
      const decoder = new TextDecoder()
      for await (const chunk of proc.stderr) {
        stderr += decoder.decode(chunk)
        const m = /op=listen url=(\S+)/.exec(stderr)
        if (m) {
          clearTimeout(timer)
          resolve(m[1]!)
        }
      }
      clearTimeout(timer)
      reject(new Error(`exited (code ${proc.exitCode}) before listening:\n${stderr}`))
    })()
  })
  return { proc, url, logs: () => stderr }
}

/**
 * What tests use of a pod, in process (test/helpers/in-process-pod.ts) or as a real process
 * (spawnPod): the federation helpers (test/helpers/federation.ts) take either.
 */
export interface TestPod {
  url: string
  home: string
  /** Everything the pod logged so far. */
  logs(): string
  token(): string
  /** Admin-authenticated JSON call to the pod's local API. */
  api<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>
}

/**
 * A pod process: `await using pod = await spawnPod()` stops it (SIGTERM to its own PID) when the
 * scope ends, and removes its home when spawnPod made that home.
 */
export interface PodProcess extends TestPod, AsyncDisposable {
  pid: number
  proc: Subprocess<'ignore', 'pipe', 'pipe'>
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(): Promise<number>
  /** SIGKILL (crash). */
  kill9(): Promise<void>
}

export interface SpawnOptions {
  home?: string
  env?: Record<string, string>
  args?: string[]
  /** Run this argv instead of mainCommand(runtime) (e.g. the binary copied elsewhere). */
  command?: string[]
  /** Run the pod this way (default: this run's, see TEST_RUNTIME); ignored with `command`. */
  runtime?: TestRuntime
  /**
   * Run inside this network namespace (test/network). Its addresses are unreachable from the test's
   * own namespace, so `api()` then talks to the pod over its home's Unix socket (pod.sock).
   */
  netns?: string
  /** How long the pod may take to log `op=listen` (default 20 s; a pod under qemu needs more). */
  startupTimeoutMs?: number
}

export async function spawnPod(opts: SpawnOptions = {}): Promise<PodProcess> {
  const home = opts.home ?? tempHome()
  const cmd = [...(opts.command ?? mainCommand(opts.runtime)), 'serve', '--home', home, '--port', '0', ...(opts.args ?? [])]
  const { proc, url, logs } = await spawnListening(cmd, opts.env, { netns: opts.netns, startupTimeoutMs: opts.startupTimeoutMs })
  const base = opts.netns ? 'http://pod' : url
  const unix = opts.netns ? join(home, 'pod.sock') : undefined
  const token = () => readFileSync(join(home, 'admin.token'), 'utf8').trim()
  return {
    url,
    home,
    pid: proc.pid,
    proc,
    logs,
    token,
    async api(method, path, body) {
      const res = await fetch(base + path, {
        method,
        ...(unix ? { unix } : {}),
        headers: { authorization: `Bearer ${token()}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      const text = await res.text()
      return { status: res.status, body: text ? JSON.parse(text) : null }
    },
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM')
      return await proc.exited
    },
    async kill9() {
      if (proc.exitCode === null) proc.kill('SIGKILL')
      await proc.exited
    },
    async [Symbol.asyncDispose]() {
      if (proc.exitCode === null) proc.kill('SIGTERM')
      await proc.exited
      // A home the caller gave may outlive this process (a restart on the same home): theirs to remove.
      if (opts.home === undefined) rmSync(home, { recursive: true, force: true })
    },
  }
}

/**
 * `n` pods started side by side: `await using pods = await spawnPods(2)` stops them all (and
 * removes their homes) when the scope ends; `const [a, b] = pods` names them.
 */
export async function spawnPods<const N extends number>(n: N, opts: SpawnOptions = {}): Promise<Tuple<PodProcess, N> & AsyncDisposable> {
  const started = await Promise.allSettled(Array.from({ length: n }, () => spawnPod(opts)))
  const pods = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
  const disposeAll = async () => void (await Promise.all(pods.map((p) => p[Symbol.asyncDispose]())))
  const failed = started.find((r) => r.status === 'rejected')
  if (failed) {
    await disposeAll()
    throw failed.reason
  }
  return Object.assign(pods as Tuple<PodProcess, N>, { [Symbol.asyncDispose]: disposeAll })
}

/** `[T, T, …]` of length N. */
type Tuple<T, N extends number, Acc extends T[] = []> = Acc['length'] extends N ? Acc : Tuple<T, N, [...Acc, T]>

/** One admin-authenticated JSON call through `send` (a socket, or an app's own `request`). */
export async function apiCall(
  send: (path: string, init: RequestInit) => Promise<Response>,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await send(path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : null }
}

/** Stops every pod given (by its own PID) and removes the homes. */
export async function cleanup(pods: PodProcess[], homes: string[] = []): Promise<void> {
  await Promise.all(pods.map((p) => p.stop().catch(() => undefined)))
  for (const h of new Set([...pods.map((p) => p.home), ...homes])) rmSync(h, { recursive: true, force: true })
}

/** Runs the CLI once to completion (as this run's TEST_RUNTIME unless `runtime` says otherwise). */
export async function runCli(
  args: string[],
  env: Record<string, string> = {},
  runtime: TestRuntime = TEST_RUNTIME,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn([...mainCommand(runtime), ...args], { cwd: ROOT, env: testEnv(env), stdout: 'pipe', stderr: 'pipe', stdin: 'ignore' })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { code, stdout, stderr }
}
