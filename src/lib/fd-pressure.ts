/**
 * Running out of file descriptors, seen and said. Past the open-file limit accept() fails: Bun's
 * server retries by itself and says nothing, Deno's node:http listener would stop for good, so
 * the Deno adapter closes connections beyond `connectionsWithin(limit)` as they come. Either way
 * the operator reads one warning (at most every 10 minutes) naming the limit and how to raise it,
 * from a sampler of /proc/self/fd (Linux) or from the adapter.
 */
import { readdirSync } from 'node:fs'
import type { Clock } from './clock'
import { FD_LIMIT_WANTED, type FdLimit } from './fd-limit'
import type { Logger } from './log'

/** How often the sampler counts open descriptors. */
export const FD_SAMPLE_MS = 5_000
/** Warn when this share of the soft limit is in use. */
const NEAR_SHARE = 0.9
const WARN_EVERY_MS = 10 * 60_000

/**
 * Connections the server may hold open: the soft limit less a reserve for the database, logs,
 * outgoing pulls and accept() itself (an eighth, at least 64). Undefined when unlimited or unknown.
 */
export function connectionsWithin(limit: FdLimit | null): number | undefined {
  if (!limit || !Number.isFinite(limit.soft)) return undefined
  return Math.max(16, limit.soft - Math.max(64, Math.floor(limit.soft / 8)))
}

/** What to tell the operator: the limit, and how to raise it for a hub's load. */
function raiseAdvice(limit: FdLimit | null): string {
  const wanted = Math.max(FD_LIMIT_WANTED, limit && Number.isFinite(limit.soft) ? limit.soft * 2 : 0)
  return `raise the open-file limit: LimitNOFILE=${wanted} in the pod's systemd unit, or \`ulimit -n ${wanted}\` before starting it (the hard limit too, from a root shell, if it is lower)`
}

export interface FdPressureLog {
  /** The server closed a connection as it came: `open` connections already held. */
  connectionsFull(open: number): void
  /** The sampler saw `open` descriptors in use, near the soft limit. */
  filesNearLimit(open: number): void
}

export function createFdPressureLog(log: Logger, limit: FdLimit | null, clock: Clock): FdPressureLog {
  let lastWarnMs = Number.NEGATIVE_INFINITY
  const warn = (count: number, what: string) => {
    const now = clock.now()
    if (now - lastWarnMs < WARN_EVERY_MS) return
    lastWarnMs = now
    log.warn({ op: 'fd_limit', err: 'fd_exhausted', count, msg: `${what}; the pod keeps running; ${raiseAdvice(limit)}` })
  }
  const soft = limit && Number.isFinite(limit.soft) ? limit.soft : 'unknown'
  return {
    connectionsFull: (open) => warn(open, `${open} connections open, all the open-file limit (${soft}) leaves room for: new ones are closed as they come`),
    filesNearLimit: (open) => warn(open, `${open} files open of the open-file limit (${soft}): new connections fail once it is reached`),
  }
}

/** Samples /proc/self/fd every FD_SAMPLE_MS; `onNear` when use reaches 90 % of the soft limit. */
export function watchFdUse(limit: FdLimit | null, onNear: (open: number) => void, everyMs = FD_SAMPLE_MS): { stop(): void } {
  if (!limit || !Number.isFinite(limit.soft)) return { stop() {} }
  const near = Math.floor(limit.soft * NEAR_SHARE)
  const timer = setInterval(() => {
    const open = countOpenFds()
    if (open !== null && open >= near) onNear(Math.min(open, limit.soft))
  }, everyMs)
  timer.unref?.()
  return { stop: () => clearInterval(timer) }
}

/** Descriptors open in this process (Linux); null elsewhere or when even listing them fails (EMFILE). */
export function countOpenFds(): number | null {
  try {
    return readdirSync('/proc/self/fd').length
  } catch (err) {
    // Listing needs a descriptor itself: none left is the answer.
    return (err as { code?: string }).code === 'EMFILE' ? Number.POSITIVE_INFINITY : null
  }
}
