/**
 * The runtime, chosen once at start-up: Bun when globalThis.Bun exists, Deno when globalThis.Deno
 * does. The adapter is imported dynamically so that Deno never loads bun:sqlite and Bun never
 * needs node:sqlite. Nothing outside src/runtime/ names Bun or Deno.
 *
 * @example
 *   import { serve, uuidv7 } from '../runtime'
 *   const server = serve({ hostname: '127.0.0.1', port: 0, fetch: app.fetch, onError })
 */
import type { Runtime } from './types'

export type * from './types'

const g = globalThis as { Bun?: unknown; Deno?: unknown }

async function select(): Promise<Runtime> {
  if (g.Bun) return (await import('./bun')).bunRuntime
  if (g.Deno) return (await import('./deno')).denoRuntime
  throw new Error('mazemaker runs on Bun or Deno; this runtime is neither')
}

export const runtime: Runtime = await select()

export const { serve, openSqlite, uuidv7, readStdin, stringWidth, spawn, selfCommand } = runtime
