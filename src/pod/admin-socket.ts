/**
 * The pod's admin app on the home's Unix socket (`<home>/pod.sock`, 0600): how CLI commands reach
 * a running pod whatever TCP port it listens on, without ever handing the admin token to whatever
 * process holds a TCP port. The admin token is still required on it (same app).
 *
 * The socket is bound under a temporary name, chmod-ed 0600 and renamed into place, so the final
 * path is never reachable with a wider mode (and the 0700 home keeps even the temporary one
 * private). Call only while holding the home lock: a socket already at the path is then a crashed
 * pod's leftover and is replaced.
 */
import { chmodSync, lstatSync, renameSync, unlinkSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { dirname, join } from 'node:path'
import type { Logger } from '../lib/log'
import { serve, type ConnInfo, type Server } from '../runtime'

export interface AdminSocket {
  path: string
  close(): Promise<void>
}

export interface AdminSocketOptions {
  path: string
  fetch: (req: Request, conn: ConnInfo) => Response | Promise<Response>
  maxRequestBodySize: number
  onError: (err: Error) => Response
  log: Logger
}

/**
 * Bytes a Unix socket address holds (sun_path, its NUL included): 108 on Linux (and Windows'
 * AF_UNIX), 104 on macOS and the BSDs. Bun on Linux binds longer paths through a workaround;
 * Deno refuses them, and so does macOS. Checking before binding keeps a home behaving the same
 * under either runtime and on every system, with a message that says what to do.
 */
export function socketPathLimit(platform: string = process.platform): number {
  return platform === 'linux' || platform === 'win32' ? 108 : 104
}

/** Whether `path` fits a socket address on `platform` (with room for the NUL). */
export function socketPathFits(path: string, platform: string = process.platform): boolean {
  return Buffer.byteLength(path) < socketPathLimit(platform)
}

/**
 * Serves `fetch` on `opts.path`. Returns null (after a warning) when the socket cannot be made,
 * e.g. a home path longer than a socket address allows: the pod still runs on TCP.
 */
export async function serveAdminSocket(opts: AdminSocketOptions): Promise<AdminSocket | null> {
  const { path, log } = opts
  const noSocket = (why: string) => {
    log.warn({ op: 'listen', err: 'no_socket', path, msg: `CLI commands cannot reach this pod: ${why}; choose a shorter home path (--home)` })
    return null
  }
  if (!socketPathFits(path)) {
    return noSocket(`${path} is ${Buffer.byteLength(path)} bytes, over the ${socketPathLimit() - 1} a Unix socket path may have on ${process.platform}`)
  }
  removeStaleSocket(path)
  // The temporary name is as long as `pod.sock`, so it fits wherever the final path does
  // (a longer one failed to bind under Deno for homes near the limit).
  const tmp = join(dirname(path), `.s${randomBytes(3).toString('hex')}`)
  let server: Server
  try {
    server = await serve({ unix: tmp, fetch: opts.fetch, maxRequestBodySize: opts.maxRequestBodySize, onError: opts.onError })
  } catch (err) {
    return noSocket((err as Error).message)
  }
  let ino: number
  try {
    chmodSync(tmp, 0o600)
    renameSync(tmp, path)
    ino = lstatSync(path).ino
  } catch (err) {
    void server.stop()
    try {
      unlinkSync(tmp)
    } catch {
      // already gone
    }
    throw err
  }
  let closed: Promise<void> | null = null
  return {
    path,
    close: () =>
      (closed ??= (async () => {
        await server.stop()
        // Only our own socket: never one a later pod (after our lock is gone) put there.
        try {
          if (lstatSync(path).ino === ino) unlinkSync(path)
        } catch {
          // already gone
        }
      })()),
  }
}

/** A socket left at `path` by a pod that died without closing (we hold the lock, so it is not live). */
function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path)
  } catch {
    // nothing there
  }
}
