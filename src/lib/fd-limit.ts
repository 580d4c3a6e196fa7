/**
 * The open-file limit at start-up. A hub holds one socket per live peer (2,000 peers: 2,000
 * held requests, plus their pulls and the database), and a soft limit of 1024, still common,
 * would make accept() fail with EMFILE under load. Bun and Deno raise the soft limit to the
 * hard one themselves on Linux; where that did not happen we raise it with util-linux
 * `prlimit` on our own pid (no native addon, works under both runtimes), and where the hard
 * limit itself is too low we log at warn exactly what to run.
 *
 * Linux only (/proc/self/limits); elsewhere nothing is checked.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import type { Logger } from './log'

/** Enough for 2,000 live peers held and pulled, the database, logs and slack. */
export const FD_LIMIT_WANTED = 8192

export interface FdLimit {
  soft: number
  hard: number
}

/** The "Max open files" row of /proc/<pid>/limits; null when absent. `unlimited` is Infinity. */
export function parseFdLimit(limits: string): FdLimit | null {
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits)
  if (!m) return null
  const num = (s: string) => (s === 'unlimited' ? Number.POSITIVE_INFINITY : Number(s))
  const soft = num(m[1]!)
  const hard = num(m[2]!)
  return Number.isNaN(soft) || Number.isNaN(hard) ? null : { soft, hard }
}

function readFdLimit(): FdLimit | null {
  try {
    return parseFdLimit(readFileSync('/proc/self/limits', 'utf8'))
  } catch {
    return null
  }
}

/** Checks (and if it can, raises) the soft limit; returns what is in force afterwards. */
export function checkFdLimit(log: Logger, wanted = FD_LIMIT_WANTED): FdLimit | null {
  let limit = readFdLimit()
  if (!limit || limit.soft >= wanted) return limit
  if (limit.hard > limit.soft) {
    const target = Number.isFinite(limit.hard) ? String(limit.hard) : 'unlimited'
    try {
      spawnSync('prlimit', ['--pid', String(process.pid), `--nofile=${target}:${target}`], { stdio: 'ignore', timeout: 2000 })
    } catch {
      /* no prlimit: reported below */
    }
    const after = readFdLimit()
    if (after && after.soft > limit.soft) {
      log.info({ op: 'fd_limit', count: after.soft, msg: `raised the open-file limit from ${limit.soft} to ${after.soft}` })
      limit = after
    }
  }
  if (limit.soft < wanted) {
    const fix =
      limit.hard < wanted
        ? `raise the hard limit: run the pod under \`ulimit -n ${wanted}\` from a root shell, or set LimitNOFILE=${wanted} in its systemd unit`
        : `run \`ulimit -n ${Math.min(limit.hard, wanted)}\` before starting the pod, or set LimitNOFILE=${wanted} in its systemd unit`
    log.warn({ op: 'fd_limit', count: limit.soft, msg: `open-file limit is ${limit.soft}: a hub holds one connection per live peer; ${fix}` })
  }
  return limit
}
