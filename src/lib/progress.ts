/**
 * Progress of long work (import, export, backup, restore, a big first pull, a background scan),
 * the way rsync or restic show it: count, rate and time left. On a terminal one line that
 * updates in place; otherwise a plain line now and then; and, given a logger, a periodic info
 * line in the log. Time comes from `now` (injected), and nothing here sets a timer: the report
 * moves when the work does.
 */
import { formatBytes } from './format-bytes'
import type { Logger } from './log'

export interface ProgressSink {
  write(text: string): unknown
  /** A terminal: redraw one line in place (`\r`), else print plain lines. */
  isTTY?: boolean
}

export interface ProgressOptions {
  /** What is being done, first on every line and the log's `op` (`import`, `backup`). */
  what: string
  /** What is counted (`memories`, `bytes`); `bytes` is shown as KiB/MiB/GiB. */
  unit: string
  /** How many there are in all, when known (time left needs it). */
  total?: number | null
  /** Where the line goes (the CLI passes process.stderr); none: the log alone. */
  out?: ProgressSink | null
  log?: Logger
  now?: () => number
  /** Redraws of the terminal line, at most one per this (default 200 ms). */
  redrawMs?: number
  /** Plain lines and log lines, one per this (default 10 s). */
  everyMs?: number
  /** Nothing is shown for work that ends before this (default 1 s): short work stays quiet. */
  quietMs?: number
}

export interface Progress {
  /** `n` more done. */
  add(n?: number): void
  /** `done` so far (for work that knows its position, e.g. bytes read). */
  set(done: number): void
  setTotal(total: number | null): void
  /** The work ended: the terminal line is cleared (the caller prints its own summary). */
  finish(): void
  /** The numbers as shown: `12,345/100,000 memories (12 %), 4,120/s, ~21 s left`. */
  line(): string
}

/** Rate over about the last this long, so time left follows a run that speeds up or slows down. */
const RATE_WINDOW_MS = 5000
/** One rate sample per this, however often work is added. */
const SAMPLE_MS = 100

export function createProgress(opts: ProgressOptions): Progress {
  const now = opts.now ?? Date.now
  const redrawMs = opts.redrawMs ?? 200
  const everyMs = opts.everyMs ?? 10_000
  const quietMs = opts.quietMs ?? 1000
  // The clock starts at the first step, not at creation: key derivation or a pod starting
  // before any work is done would otherwise read as a slow start (and a silly time left).
  let started = Number.NaN
  const tty = opts.out?.isTTY === true
  let total = opts.total ?? null
  let done = 0
  let drawn = false
  let lastDraw = -Infinity
  let lastPlain = 0
  let lastLog = 0
  let finished = false
  // (time, done) samples, oldest first, spanning about RATE_WINDOW_MS.
  const samples: [number, number][] = []

  const rate = (at: number): number => {
    if (samples.length === 0) return 0
    const [t0, d0] = samples[0]!
    const span = at - t0
    return span > 0 ? ((done - d0) * 1000) / span : 0
  }

  const line = (at = now()): string => {
    const r = rate(at)
    const parts = [
      total !== null ? `${amount(done, opts.unit)}/${amount(total, opts.unit)}${unitWord(opts.unit)}` : `${amount(done, opts.unit)}${unitWord(opts.unit)}`,
    ]
    if (total !== null && total > 0) parts[0] += ` (${Math.floor((Math.min(done, total) * 100) / total)} %)`
    if (r > 0) parts.push(`${amount(Math.round(r), opts.unit)}${opts.unit === 'bytes' ? '' : ` ${opts.unit}`}/s`)
    if (total !== null && r > 0 && done < total) parts.push(`~${duration((total - done) / r)} left`)
    return parts.join(', ')
  }

  /** `before`: what was done before this step, the first sample (work begins with the first step). */
  const report = (before: number) => {
    if (finished) return
    const at = now()
    if (Number.isNaN(started)) {
      started = lastPlain = lastLog = at
      samples.push([at, before])
    }
    if (at - samples[samples.length - 1]![0] >= SAMPLE_MS) samples.push([at, done])
    while (samples.length > 2 && at - samples[1]![0] >= RATE_WINDOW_MS) samples.shift()
    if (at - started < quietMs) return
    if (opts.out && tty && at - lastDraw >= redrawMs) {
      lastDraw = at
      drawn = true
      opts.out.write(`\r\x1b[K${opts.what}: ${line(at)}`)
    } else if (opts.out && !tty && at - lastPlain >= everyMs) {
      lastPlain = at
      opts.out.write(`${opts.what}: ${line(at)}\n`)
    }
    if (opts.log && at - lastLog >= everyMs) {
      lastLog = at
      const r = rate(at)
      opts.log.info({
        op: opts.what,
        count: done,
        total: total ?? undefined,
        rate: Math.round(r),
        left_s: total !== null && r > 0 ? Math.ceil((total - done) / r) : undefined,
        msg: 'in progress',
      })
    }
  }

  return {
    add(n = 1) {
      const before = done
      done += n
      report(before)
    },
    set(value) {
      const before = done
      done = value
      report(before)
    },
    setTotal(value) {
      total = value
    },
    finish() {
      if (finished) return
      finished = true
      if (drawn && opts.out) opts.out.write('\r\x1b[K')
    },
    line: () => line(),
  }
}

/** `12,345` or, for bytes, `1.5 MiB`. */
function amount(n: number, unit: string): string {
  if (unit !== 'bytes') return n.toLocaleString('en-US')
  return formatBytes(n, { short: true })
}

function unitWord(unit: string): string {
  return unit === 'bytes' ? '' : ` ${unit}`
}

/** `45 s`, `3 min 20 s`, `2 h 5 min`. */
export function duration(seconds: number): string {
  const s = Math.ceil(seconds)
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`
}
