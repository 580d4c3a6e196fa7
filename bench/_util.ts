/** Shared bits for benchmarks: percentiles, RSS of a PID, formatting, a tiny concurrency pool. */
import { readFileSync } from 'node:fs'
import type { TestRuntime } from '../test/helpers/pod-process'

/** The runtimes whose pods a benchmark runs, from RUNTIME=bun|deno|both (default both: Deno beside Bun in one run). */
export function benchRuntimes(): TestRuntime[] {
  const raw = process.env.RUNTIME ?? 'both'
  if (raw === 'both') return ['bun', 'deno']
  if (raw === 'bun' || raw === 'deno') return [raw]
  throw new Error(`RUNTIME must be bun, deno or both, got ${raw}`)
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]!
}

/** Resident set size of a process in MB, from /proc. */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
  return kb / 1024
}

/** Peak RSS (VmHWM) of a process in MB. */
export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0)
  return kb / 1024
}

export async function pool<T>(count: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count)
  let next = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++
        out[i] = await fn(i)
      }
    }),
  )
  return out
}

export const fmt = (n: number, digits = 1) => n.toFixed(digits)

export function row(name: string, value: string, note = ''): void {
  console.log(`${name.padEnd(44)} ${value.padStart(14)}  ${note}`)
}
