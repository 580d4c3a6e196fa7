/**
 * For probes that show a request leaving while the main thread works synchronously (as a pull
 * stores a page): sleeps this thread in short steps, none of its event loop running meanwhile,
 * until `file` exists (the test's server writes it when the request reaches it) or `ms` passed.
 */
import { existsSync } from 'node:fs'

export function blockUntilFileExists(file: string, ms = 10_000): boolean {
  const pause = new Int32Array(new SharedArrayBuffer(4))
  const deadline = Date.now() + ms
  let seen = existsSync(file)
  while (!seen && Date.now() < deadline) {
    Atomics.wait(pause, 0, 0, 5)
    seen = existsSync(file)
  }
  return seen
}
