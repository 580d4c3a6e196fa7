/**
 * One logfmt line per event on stderr: `ts=… level=info pod=a1f3c2d0 peer=6356db37 op=sync ms=38`.
 * The logger is injected; tests collect lines. Never pass a key, token or private content.
 */
import { isVisible, jsonVisible } from './visible'

export type Level = 'debug' | 'info' | 'warn' | 'error'
export type Fields = Record<string, string | number | boolean | null | undefined>

export interface Logger {
  debug(fields: Fields): void
  info(fields: Fields): void
  warn(fields: Fields): void
  error(fields: Fields): void
  /** A logger that adds `fields` to every line (e.g. `{ pod: shortId }`). */
  with(fields: Fields): Logger
}

const LEVELS: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 }

function formatValue(value: string | number | boolean | null): string {
  const s = String(value)
  if (s !== '' && /^[^\s"=\\]+$/.test(s) && isVisible(s)) return s
  // A peer's error text lands here too: no raw ESC, C1 or bidi override reaches the terminal.
  return jsonVisible(JSON.stringify(s))
}

/** Formats one logfmt line; keys with undefined values are left out. */
export function formatLogfmt(fields: Fields): string {
  const parts: string[] = []
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue
    parts.push(`${key}=${formatValue(value)}`)
  }
  return parts.join(' ')
}

export interface LoggerOptions {
  level?: Level
  /** Where lines go; defaults to stderr. */
  sink?: (line: string) => void
  now?: () => number
  base?: Fields
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const min = LEVELS[opts.level ?? 'info']
  const sink = opts.sink ?? ((line: string) => process.stderr.write(line + '\n'))
  const now = opts.now ?? Date.now
  const base = opts.base ?? {}
  const emit = (level: Level, fields: Fields) => {
    if (LEVELS[level] < min) return
    sink(formatLogfmt({ ts: new Date(now()).toISOString(), level, ...base, ...fields }))
  }
  return {
    debug: (f) => emit('debug', f),
    info: (f) => emit('info', f),
    warn: (f) => emit('warn', f),
    error: (f) => emit('error', f),
    with: (f) => createLogger({ ...opts, base: { ...base, ...f } }),
  }
}

/** Collects lines in memory, for tests. */
export function memoryLogger(level: Level = 'debug'): Logger & { lines: string[] } {
  const lines: string[] = []
  return Object.assign(createLogger({ level, sink: (l) => lines.push(l) }), { lines })
}
