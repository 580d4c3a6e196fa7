/** `mazemaker serve` (the default command): run the pod until SIGINT/SIGTERM. */
import { defineCommand } from 'citty'
import { PodError } from '../lib/errors'
import { createLogger } from '../lib/log'
import { startPod } from '../pod'
import { shortId } from '../identity'
import { homeRoot, portOverride, type GlobalFlags } from './context'

export function syncIntervalOverride(): number | undefined {
  const raw = process.env.MAZEMAKER_SYNC_INTERVAL
  if (raw === undefined || raw === '') return undefined
  if (!/^\d{1,6}$/.test(raw) || Number(raw) < 1) throw new PodError('usage', `MAZEMAKER_SYNC_INTERVAL must be a number of seconds ≥ 1, got ${raw}`)
  return Number(raw)
}

/** MAZEMAKER_LIVE_WAIT: the long-poll wait for live peers, 0..50 seconds (0 = no live pulls). */
export function liveWaitOverride(): number | undefined {
  const raw = process.env.MAZEMAKER_LIVE_WAIT
  if (raw === undefined || raw === '') return undefined
  if (!/^\d{1,2}$/.test(raw) || Number(raw) > 50) throw new PodError('usage', `MAZEMAKER_LIVE_WAIT must be a number of seconds from 0 to 50, got ${raw}`)
  return Number(raw)
}

/**
 * MAZEMAKER_CONNECT_TIMEOUT_MS: how long one peer URL may take to answer (headers) before the
 * next advertised URL is tried, 100..60000 ms (default CONNECT_TIMEOUT_MS, 5 s). Lower it where a
 * black-holed first URL is common and peers answer fast; raise it for slow links.
 */
export function connectTimeoutOverride(): number | undefined {
  const raw = process.env.MAZEMAKER_CONNECT_TIMEOUT_MS
  if (raw === undefined || raw === '') return undefined
  if (!/^\d{1,5}$/.test(raw) || Number(raw) < 100 || Number(raw) > 60_000)
    throw new PodError('usage', `MAZEMAKER_CONNECT_TIMEOUT_MS must be a number of milliseconds from 100 to 60000, got ${raw}`)
  return Number(raw)
}

/**
 * MAZEMAKER_UNSAFE_NO_FSYNC=1: acknowledge local writes without syncing them to disk first (as
 * etcd's --unsafe-no-fsync). For benchmarks and throwaway pods: a power cut may lose the last
 * acknowledged writes (a killed process does not).
 */
export function unsafeNoFsync(): boolean {
  const raw = process.env.MAZEMAKER_UNSAFE_NO_FSYNC
  if (raw === undefined || raw === '' || raw === '0') return false
  if (raw === '1') return true
  throw new PodError('usage', `MAZEMAKER_UNSAFE_NO_FSYNC must be 1 (or 0, or unset), got ${raw}`)
}

export function serveCommand(flags: GlobalFlags) {
  return defineCommand({
    meta: { name: 'serve', description: 'Run the pod: local API, MCP, panel and federation (default command)' },
    args: {
      'log-level': { type: 'enum', options: ['debug', 'info', 'warn', 'error'], default: 'info', description: 'log verbosity' },
    },
    async run({ args }) {
      const baseLog = createLogger({ level: args['log-level'] as 'info' })
      // Listening before the pod starts: a SIGTERM right after `op=listen` (a service manager
      // stopping what it just started) would otherwise meet no handler and kill the process
      // with the home locked and the store open.
      let requested: string | null = null
      let onSignal = (signal: string) => {
        requested = signal
      }
      process.once('SIGINT', () => onSignal('SIGINT'))
      process.once('SIGTERM', () => onSignal('SIGTERM'))
      const pod = await startPod({
        home: homeRoot(flags),
        port: portOverride(flags),
        host: flags.host,
        log: baseLog,
        syncIntervalSeconds: syncIntervalOverride(),
        liveWaitSeconds: liveWaitOverride(),
        connectTimeoutMs: connectTimeoutOverride(),
        durable: !unsafeNoFsync(),
      })
      const log = baseLog.with({ pod: shortId(pod.id) })
      await new Promise<void>((resolve) => {
        onSignal = (signal: string) => {
          log.info({ op: 'shutdown', msg: `received ${signal}` })
          pod.close().then(resolve, (err) => {
            log.error({ op: 'shutdown', err: 'close_failed', msg: String(err) })
            process.exitCode = 1
            resolve()
          })
        }
        if (requested) onSignal(requested)
      })
      log.info({ op: 'shutdown', msg: 'stopped' })
    },
  })
}
