/**
 * CLI commands talk to the pod over its local API. A running pod of this home is reached over
 * its Unix socket, whatever TCP port it listens on. When none runs, the command starts one
 * in-process (no pull loop) for its own duration and talks to that, so `remember`, `recall`,
 * `peer …` and `sync` work with or without a running pod through exactly the same code paths.
 * Either way the admin token only ever goes to a pod of this home: never to "whatever answers
 * on pod.toml's port".
 */
import { homePaths } from '../identity'
import { HomeError } from '../lib/errors'
import { createLogger } from '../lib/log'
import { startPod } from '../pod'
import { socketPathFits, socketPathLimit } from '../pod/admin-socket'
import { jsonVisible } from '../lib/visible'
import { homeRoot, inProcessClient, podClient, type GlobalFlags, type PodClient } from './context'

export async function withPod<T>(flags: GlobalFlags, fn: (client: PodClient, local: boolean) => Promise<T>): Promise<T> {
  const client = podClient(flags)
  if (await client.running()) return fn(client, false)

  // First use of a home creates it (identity files) here.
  const root = homeRoot(flags)
  // No pull loop and no rendezvous heartbeat: this pod lives for one command on an ephemeral port.
  let pod: Awaited<ReturnType<typeof startPod>>
  try {
    pod = await startPod({ home: root, port: 0, host: '127.0.0.1', autoSync: false, heartbeat: false, log: createLogger({ level: 'warn' }) })
  } catch (err) {
    // A pod holds the home but did not answer yet: it is starting (the lock comes before its
    // socket, and a pod with thousands of peers takes a moment), or too busy to answer in time.
    // Wait for it rather than tell the operator to restart a pod that is fine.
    if (!lockedBy(err)) throw err
    if (await waitUntilRunning(client)) return fn(client, false)
    throw explainLocked(err, homePaths(root).socket)
  }
  try {
    // Our own pod: its socket, or (if the home path is too long for one) the port we just bound.
    return await fn(pod.socketPath ? podClient({ ...flags, home: root }) : inProcessClient({ ...flags, home: root }, pod.url), true)
  } finally {
    await pod.close()
  }
}

/**
 * How long a command waits for a pod that holds the home to answer on its socket. A hub busy
 * with 2,000 peers answered /healthz in 3.5–10 s on a loaded machine, past the 1.5 s a first
 * look allows: once we know a pod holds the home, each look may take the time that is left.
 */
const STARTING_POD_WAIT_MS = 20_000
const STARTING_POD_POLL_MS = 200

function lockedBy(err: unknown): boolean {
  return err instanceof HomeError && /is locked by pid \d+/.test(err.message)
}

async function waitUntilRunning(client: PodClient): Promise<boolean> {
  const deadline = Date.now() + STARTING_POD_WAIT_MS
  while (Date.now() < deadline) {
    if (await client.running(Math.max(1500, deadline - Date.now()))) return true
    await new Promise((resolve) => setTimeout(resolve, STARTING_POD_POLL_MS))
  }
  return false
}

/**
 * The home is locked, so a pod runs, yet it did not answer on its socket (an older pod without
 * one, a home path too long for a socket address, a removed socket file): say that, not only
 * "is another pod running?".
 */
function explainLocked(err: unknown, socket: string): unknown {
  if (!(err instanceof HomeError)) return err
  const m = /is locked by pid (\d+)/.exec(err.message)
  if (!m) return err
  if (!socketPathFits(socket)) {
    const why = `${socket} is longer than a Unix socket path may be on ${process.platform} (${socketPathLimit() - 1} bytes)`
    return new HomeError(`a pod (pid ${m[1]}) runs for this home but CLI commands cannot reach it: ${why}; move the home to a shorter path`, { cause: err })
  }
  return new HomeError(`a pod (pid ${m[1]}) runs for this home but does not answer on ${socket}; restart it (an older pod has no socket) and try again`, {
    cause: err,
  })
}

/** JSON for stdout, with C1 controls and bidi/invisible characters escaped like C0 (see jsonVisible). */
export function printJson(value: unknown): void {
  process.stdout.write(jsonVisible(JSON.stringify(value, null, 2)) + '\n')
}
