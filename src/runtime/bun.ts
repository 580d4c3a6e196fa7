/**
 * The Bun adapter: Bun.serve, bun:sqlite, Bun.randomUUIDv7, Bun.stdin, Bun.stringWidth,
 * Bun.spawn. Selected when index.ts finds globalThis.Bun; nothing here runs before that.
 */
import type { Server as BunServer, SocketAddress } from 'bun'
import { errnoName } from './errno'
import { openBunSqlite } from './sqlite-bun'
import type { ChildProcess, ConnInfo, Runtime, Server, ServeOptions, SpawnOptions } from './types'

/**
 * The peer's address, looked up only when asked (once): most handlers never need it. A class, so
 * a request costs one small object and no getter functions of its own (a hub makes one per ask).
 */
class BunConnInfo implements ConnInfo {
  #peer: SocketAddress | null | undefined = undefined
  constructor(
    private readonly server: BunServer<undefined>,
    private readonly req: Request,
  ) {}
  #ip(): SocketAddress | null {
    if (this.#peer === undefined) this.#peer = this.server.requestIP(this.req)
    return this.#peer
  }
  get remoteAddress(): string | null {
    return this.#ip()?.address ?? null
  }
  get remotePort(): number | null {
    return this.#ip()?.port ?? null
  }
}

/** Bun.serve binds at once; async only to match the interface. */
async function serve(opts: ServeOptions): Promise<Server> {
  const common = {
    fetch: (req: Request, server: BunServer<undefined>) => opts.fetch(req, new BunConnInfo(server, req)),
    maxRequestBodySize: opts.maxRequestBodySize,
    error: (err: Error) => opts.onError(err),
  }
  const server =
    opts.unix !== undefined
      ? Bun.serve({ ...common, unix: opts.unix })
      : Bun.serve({
          ...common,
          hostname: opts.hostname ?? '127.0.0.1',
          port: opts.port ?? 0,
          ...(opts.idleTimeoutSeconds !== undefined ? { idleTimeout: opts.idleTimeoutSeconds } : {}),
        })
  return {
    hostname: opts.unix !== undefined ? '' : (server.hostname ?? ''),
    port: opts.unix !== undefined ? 0 : (server.port ?? 0),
    unix: opts.unix ?? null,
    stop: () => server.stop(),
  }
}

function spawn(cmd: string[], opts: SpawnOptions = {}): ChildProcess {
  const proc = Bun.spawn(cmd, {
    cwd: opts.cwd,
    env: opts.env,
    stdin: opts.stdin ?? 'ignore',
    stdout: opts.stdout ?? 'ignore',
    stderr: opts.stderr ?? 'ignore',
  })
  return {
    pid: proc.pid,
    exited: proc.exited,
    kill: (signal) => proc.kill(signal),
    unref: () => proc.unref(),
  }
}

/** A connection error with its errno name in `code`, whatever words this Bun version used. */
function rethrowByErrno(err: unknown): never {
  const code = errnoName(err)
  if (code && err instanceof Error && (err as { code?: unknown }).code !== code) throw Object.assign(new Error(err.message, { cause: err }), { code })
  throw err
}

export const bunRuntime: Runtime = {
  name: 'bun',
  serve,
  unixFetch: (socket) => (path, init) => fetch(`http://localhost${path}`, { ...init, unix: socket }).catch((err: unknown) => rethrowByErrno(err)),
  openSqlite: openBunSqlite,
  uuidv7: (nowMs) => Bun.randomUUIDv7('hex', nowMs),
  readStdin: () => Bun.stdin.text(),
  stringWidth: (s) => Bun.stringWidth(s),
  spawn,
  // Compiled, the binary runs itself (its entry lives in Bun's embedded /$bunfs/); from source,
  // bun runs the entry script. Not by the executable's name: npm's bun is bin/bun.exe.
  selfCommand: () => (Bun.main.startsWith('/$bunfs/') ? [process.execPath] : [process.execPath, Bun.main]),
  // Bun's fetch writes the request from its HTTP thread, whatever this thread does next.
  letIoRun: () => Promise.resolve(),
  fetchOnMainThread: false,
  decryptAesGcm: null,
  encryptAesGcm: null,
  // Bun's native hashers: a MAC with its body hash in 1.4 µs against node:crypto's 2.1 (measured).
  hmacSha256: (key, message) => new Bun.CryptoHasher('sha256', key).update(message).digest(),
  // 0.50 µs a word against node:crypto's 1.10 (measured), its hex made natively too.
  hmacSha256Hex: (key, message) => new Bun.CryptoHasher('sha256', key).update(message).digest('hex'),
  sha256Hex: (data) => Bun.SHA256.hash(data, 'hex'),
}
