/**
 * `mazemaker service install` on Windows: there is no per-user service file to write, so the
 * command says how to start the pod at logon with Task Scheduler instead of failing obscurely.
 */
import type { UnitOptions } from './service'

/** `"C:\a b\x.exe"` inside a schtasks /TR value: its inner quotes escaped with a backslash. */
function trWord(arg: string): string {
  return /[\s"]/.test(arg) || arg === '' ? `\\"${arg.replace(/"/g, '\\\\\\"')}\\"` : arg
}

/** The one line that tells a Windows user what to run instead. */
export function windowsServiceAdvice(opts: UnitOptions): string {
  const argv = [opts.binaryPath, ...(opts.preArgs ?? []), 'serve']
  if (opts.home !== undefined) argv.push('--home', opts.home)
  if (opts.port !== undefined) argv.push('--port', String(opts.port))
  const task = `schtasks /Create /SC ONLOGON /TN mazemaker /TR "${argv.map(trWord).join(' ')}"`
  return `Windows has no user service for mazemaker to install; to start the pod at logon, run in a terminal: ${task} (remove it with: schtasks /Delete /TN mazemaker /F)`
}
