/**
 * Error codes by errno name (`ECONNREFUSED`, `ENOENT`, …) on both runtimes and every OS. Bun
 * puts the name in `code` itself (older versions their own words: `ConnectionRefused`,
 * `FailedToOpenSocket`); Deno's fetch says `… (os error 111)` in its cause's message, and that
 * number is the OS's own (ECONNREFUSED is 111 on Linux, 61 on macOS and the BSDs), so it is
 * looked up in this OS's errno table (node:os), never in a table of Linux numbers.
 */
import { constants } from 'node:os'

/** This OS's errno names by number, from node:os (both runtimes provide it). A constant table. */
const THIS_OS: Readonly<Record<number, string>> = Object.freeze(Object.fromEntries(Object.entries(constants.errno).map(([name, n]) => [n, name])))

/** Bun's own words for errno conditions, reported by older Bun versions instead of the name. */
const BUN_WORDS: Readonly<Record<string, string>> = {
  ConnectionRefused: 'ECONNREFUSED',
  ConnectionClosed: 'ECONNRESET',
  ConnectionReset: 'ECONNRESET',
  FailedToOpenSocket: 'ENOENT',
}

const ERRNO_NAME_RE = /^E[A-Z0-9]+$/
const OS_ERROR_RE = /\(os error (\d+)\)/

/**
 * The errno name of a failed system call or connection, looking through `cause`s; undefined
 * when the error carries none (an HTTP status, a timeout, a bug). `errnoNames` is the OS's
 * number → name table (this OS's by default; tests pass another OS's).
 */
export function errnoName(err: unknown, errnoNames: Readonly<Record<number, string>> = THIS_OS): string | undefined {
  let e: unknown = err
  for (let depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    const { code, message, cause } = e as { code?: unknown; message?: unknown; cause?: unknown }
    if (typeof code === 'string') {
      if (ERRNO_NAME_RE.test(code)) return code
      if (Object.hasOwn(BUN_WORDS, code)) return BUN_WORDS[code]
    }
    const number = typeof message === 'string' ? OS_ERROR_RE.exec(message)?.[1] : undefined
    if (number !== undefined) return errnoNames[Number(number)]
    e = cause
  }
  return undefined
}
