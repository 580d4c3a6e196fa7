/**
 * Progress of a long CLI command on stderr (stdout may carry the command's output, e.g. an
 * export): one updating line on a terminal, a plain line every 10 s otherwise.
 * MAZEMAKER_PROGRESS_MS sets how often plain lines come (0: at every step, with no quiet first
 * second), for logs that want more or fewer of them.
 */
import { PodError } from '../lib/errors'
import { createProgress, type Progress } from '../lib/progress'

export function cliProgress(what: string, unit: string, total: number | null = null): Progress {
  const env = process.env.MAZEMAKER_PROGRESS_MS
  if (env !== undefined && env !== '' && !/^\d{1,9}$/.test(env))
    throw new PodError('usage', `MAZEMAKER_PROGRESS_MS must be a number of milliseconds, got ${env}`)
  const everyMs = env ? Number(env) : undefined
  return createProgress({ what, unit, total, out: process.stderr, ...(everyMs !== undefined ? { everyMs, quietMs: Math.min(everyMs, 1000) } : {}) })
}

/** For work that reports bytes done of a total (backup, restore). */
export function cliByteProgress(what: string): { onProgress(done: number, total: number): void; finish(): void } {
  const progress = cliProgress(what, 'bytes')
  return {
    onProgress: (done, total) => {
      progress.setTotal(total)
      progress.set(done)
    },
    finish: () => progress.finish(),
  }
}
