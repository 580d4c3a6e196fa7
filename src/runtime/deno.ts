/**
 * The Deno adapter: Deno.serve, node:sqlite, UUID v7 and string width written here (Deno has
 * neither built in), Deno.stdin, Deno.Command. Selected when index.ts finds globalThis.Deno;
 * nothing here runs before that. The few Deno APIs used are typed below, so the project needs no
 * Deno type package.
 */
import { fileURLToPath } from 'node:url'
import { createUuidv7 } from './_uuidv7'
import { stringWidth } from './_string-width'
import { errnoName } from './errno'
import { openNodeSqlite } from './sqlite-node'
import type { ChildProcess, ConnInfo, Runtime, Server, ServeOptions, SpawnOptions, UnixFetch } from './types'

type NetAddr = { transport: 'tcp' | 'udp'; hostname: string; port: number }
type UnixAddr = { transport: 'unix' | 'unixpacket'; path: string }
interface DenoHttpServer {
  addr: NetAddr | UnixAddr
  shutdown(): Promise<void>
}
interface DenoServeOptions {
  handler(req: Request, info: { remoteAddr: NetAddr | UnixAddr }): Response | Promise<Response>
  onError(err: unknown): Response | Promise<Response>
  onListen(addr: NetAddr | UnixAddr): void
  hostname?: string
  port?: number
  path?: string
}
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
  serve(opts: DenoServeOptions): DenoHttpServer
  createHttpClient(opts: { proxy: { transport: 'unix'; path: string } }): DenoHttpClient
  errors: { AddrInUse: new (...args: never[]) => Error }
  stdin: { readable: ReadableStream<Uint8Array> }
  Command: new (
    cmd: string,
    opts: { args: string[]; cwd?: string; env?: Record<string, string>; clearEnv?: boolean; stdin: string; stdout: string; stderr: string },
  ) => { spawn(): DenoChild }
  execPath(): string
  mainModule: string
}
declare const Deno: DenoApi

function serve(opts: ServeOptions): Server {
  const max = opts.maxRequestBodySize
  const handler: DenoServeOptions['handler'] = (req, info) => {
    // Deno.serve has no body-size option: refuse what the client declares as too large here,
    // streamed bodies meet the app's own bodyLimit.
    if (max !== undefined && Number(req.headers.get('content-length') ?? 0) > max) {
      return Response.json({ error: 'too_large', message: `request body is over ${max} bytes` }, { status: 413 })
    }
    const conn: ConnInfo = { remoteAddress: info.remoteAddr.transport === 'tcp' ? info.remoteAddr.hostname : null }
    return opts.fetch(req, conn)
  }
  const common = {
    handler,
    onError: (err: unknown) => opts.onError(err instanceof Error ? err : new Error(String(err))),
    onListen() {}, // Deno prints "Listening on …" to stdout otherwise; the pod logs its own line
  }
  let server: DenoHttpServer
  try {
    server =
      opts.unix !== undefined
        ? Deno.serve({ ...common, path: opts.unix })
        : Deno.serve({ ...common, hostname: opts.hostname ?? '127.0.0.1', port: opts.port ?? 0 })
  } catch (err) {
    // Callers recognise a taken address by Node's code, as Bun reports it.
    if (err instanceof Deno.errors.AddrInUse) throw Object.assign(new Error(err.message, { cause: err }), { code: 'EADDRINUSE' })
    throw err
  }
  const addr = server.addr
  return {
    hostname: addr.transport === 'tcp' ? addr.hostname : '',
    port: addr.transport === 'tcp' ? addr.port : 0,
    unix: opts.unix ?? null,
    stop: () => server.shutdown(),
  }
}

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
  serve,
  unixFetch,
  openSqlite: openNodeSqlite,
  uuidv7: createUuidv7(),
  readStdin: () => new Response(Deno.stdin.readable).text(),
  stringWidth,
  spawn,
  // deno.json next to package.json supplies the flags (sloppy imports, node_modules); it is
  // found from the entry script's directory upwards, so this works from any working directory.
  selfCommand: () => [Deno.execPath(), 'run', '-A', fileURLToPath(Deno.mainModule)],
}
