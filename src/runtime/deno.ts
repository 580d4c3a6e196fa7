/**
 * The Deno adapter: node:http (deno-http.ts says why not Deno.serve), node:sqlite, UUID v7 and string width written here (Deno has
 * neither built in), Deno.stdin, Deno.Command. Selected when index.ts finds globalThis.Deno;
 * nothing here runs before that. The few Deno APIs used are typed below, so the project needs no
 * Deno type package.
 */
import { fileURLToPath } from 'node:url'
import { createUuidv7 } from './_uuidv7'
import { stringWidth } from './_string-width'
import { errnoName } from './errno'
import { openNodeSqlite } from './sqlite-node'
import { webDecryptAesGcm, webEncryptAesGcm } from './aes-gcm-web'
import type { ChildProcess, Runtime, SpawnOptions, UnixFetch } from './types'

interface DenoChild {
  pid: number
  status: Promise<{ code: number; signal: string | null }>
  kill(signal?: string): void
  unref(): void
}
interface DenoHttpClient {
  close(): void
}
interface DenoApi {
  createHttpClient(opts: { proxy: { transport: 'unix'; path: string } }): DenoHttpClient
  stdin: { readable: ReadableStream<Uint8Array> }
  Command: new (
    cmd: string,
    opts: { args: string[]; cwd?: string; env?: Record<string, string>; clearEnv?: boolean; stdin: string; stdout: string; stderr: string },
  ) => { spawn(): DenoChild }
  execPath(): string
  mainModule: string
}
declare const Deno: DenoApi

function spawn(cmd: string[], opts: SpawnOptions = {}): ChildProcess {
  const stdio = (s: 'ignore' | 'inherit' | undefined) => (s === 'inherit' ? 'inherit' : 'null')
  const child = new Deno.Command(cmd[0]!, {
    args: cmd.slice(1),
    cwd: opts.cwd,
    // As with Bun.spawn, an env given is the whole environment.
    env: opts.env,
    clearEnv: opts.env !== undefined,
    stdin: stdio(opts.stdin),
    stdout: stdio(opts.stdout),
    stderr: stdio(opts.stderr),
  }).spawn()
  return {
    pid: child.pid,
    exited: child.status.then((s) => s.code),
    kill: (signal = 'SIGTERM') => child.kill(signal),
    unref: () => child.unref(),
  }
}

/** One HTTP client per fetcher, made on its first request: its connections are reused like fetch's own pool. */
function unixFetch(socket: string): UnixFetch {
  let client: DenoHttpClient | undefined
  return (path, init) => {
    client ??= Deno.createHttpClient({ proxy: { transport: 'unix', path: socket } })
    return fetchUnix(client, socket, path, init)
  }
}

async function fetchUnix(client: DenoHttpClient, socket: string, path: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(`http://localhost${path}`, { ...init, client } as RequestInit)
  } catch (err) {
    // Deno says why the connect() failed only in its cause's message, by the OS's errno number.
    const detail = String((err as { cause?: { message?: string } }).cause?.message ?? '')
    const code = errnoName(err)
    if (code) throw Object.assign(new Error(`cannot connect to ${socket}: ${detail}`, { cause: err }), { code })
    throw err
  }
}

export const denoRuntime: Runtime = {
  name: 'deno',
  // Loaded when a server starts: a worker (a pull's fetch thread) never serves, and node:http
  // took 7-9 ms of its start-up.
  serve: async (opts) => (await import('./deno-http')).serveNodeHttp(opts),
  unixFetch,
  openSqlite: openNodeSqlite,
  uuidv7: createUuidv7(),
  readStdin: () => new Response(Deno.stdin.readable).text(),
  stringWidth,
  spawn,
  // deno.json next to package.json supplies the flags (sloppy imports, node_modules); it is
  // found from the entry script's directory upwards, so this works from any working directory.
  selfCommand: () => [Deno.execPath(), 'run', '-A', fileURLToPath(Deno.mainModule)],
  // Deno's fetch hands the request to the event loop, which writes it when polled: a timer turn
  // polls it (a setImmediate turn does not). Measured: a request followed by 300 ms of
  // synchronous work reached the server after that work, and during it after this.
  letIoRun: () => new Promise<void>((resolve) => setTimeout(resolve, 0)),
  fetchOnMainThread: true,
  decryptAesGcm: webDecryptAesGcm,
  encryptAesGcm: webEncryptAesGcm,
  hmacSha256: null,
  hmacSha256Hex: null,
  sha256Hex: null,
}
