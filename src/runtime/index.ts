/**
 * The runtime, chosen once at start-up: Bun when globalThis.Bun exists, Deno when globalThis.Deno
 * does. Both adapters are plain modules that touch their runtime only when called (bun:sqlite and
 * node:sqlite are loaded on first open), so selecting needs no top-level await, which
 * `bun build --compile --bytecode` refuses. Nothing outside src/runtime/ names Bun or Deno.
 *
 * @example
 *   import { serve, uuidv7 } from '../runtime'
 *   const server = await serve({ hostname: '127.0.0.1', port: 0, fetch: app.fetch, onError })
 */
import { bunRuntime } from './bun'
import { denoRuntime } from './deno'
import type { Runtime } from './types'

export type * from './types'
export { errnoName } from './errno'
export { type CheckpointOutcome, type CheckpointThread, startCheckpointThread } from './checkpoint-thread'
export { type WorkerCalls, workerCalls } from './worker-calls'

const g = globalThis as { Bun?: unknown; Deno?: unknown }

function select(): Runtime {
  if (g.Bun) return bunRuntime
  if (g.Deno) return denoRuntime
  throw new Error('mazemaker runs on Bun or Deno; this runtime is neither')
}

export const runtime: Runtime = select()

export const {
  serve,
  unixFetch,
  openSqlite,
  uuidv7,
  readStdin,
  stringWidth,
  spawn,
  selfCommand,
  letIoRun,
  decryptAesGcm,
  encryptAesGcm,
  fetchOnMainThread,
  hmacSha256,
  hmacSha256Hex,
  sha256Hex,
} = runtime
