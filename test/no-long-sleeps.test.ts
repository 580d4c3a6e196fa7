/**
 * No test sleeps more than 100 ms of real time: a test waits for an event it controls
 * (a deferred answer, a barrier, a FakeClock step), not for the wall clock. This scans test/ for
 * real sleeps (`Bun.sleep(n)`, `setTimeout(resolve, n)`) longer than that, the duration given as
 * a literal or as a constant of the same file. Safety-net timers (reject after 15 s) are not
 * sleeps and are not matched.
 */
import { expect, test } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'

const TEST_DIR = import.meta.dir
const MAX_SLEEP_MS = 100
/** A real sleep: Bun.sleep(x), or a promise resolved by setTimeout(r, x) / setTimeout(() => r(), x). */
const SLEEP = /\bBun\.sleep\(\s*([\w.]+)\s*\)|setTimeout\(\s*(?:r|res|resolve|\(\)\s*=>\s*(?:r|res|resolve)\(\))\s*,\s*([\w.]+)\s*\)/g
const CONST = /\bconst\s+([A-Za-z_$][\w$]*)\s*=\s*([\d_]+(?:\.\d+)?)\s*(?:\/\/.*)?$/gm

/** The sleeps over MAX_SLEEP_MS in `text`, as "line: code". */
export function longSleeps(text: string): string[] {
  const consts = new Map<string, number>()
  for (const m of text.matchAll(CONST)) consts.set(m[1]!, Number(m[2]!.replaceAll('_', '')))
  const out: string[] = []
  text.split('\n').forEach((line, i) => {
    for (const m of line.matchAll(SLEEP)) {
      const arg = (m[1] ?? m[2])!
      const ms = /^[\d_.]+$/.test(arg) ? Number(arg.replaceAll('_', '')) : consts.get(arg)
      if (ms !== undefined && ms > MAX_SLEEP_MS) out.push(`${i + 1}: ${line.trim()}`)
    }
  })
  return out
}

test('no test sleeps more than 100 ms of real time', () => {
  const offenders: string[] = []
  for (const entry of readdirSync(TEST_DIR, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !/\.(ts|js|mjs)$/.test(entry.name)) continue
    const path = join(entry.parentPath, entry.name)
    if (path === import.meta.path) continue
    for (const hit of longSleeps(readFileSync(path, 'utf8'))) offenders.push(`test/${relative(TEST_DIR, path)}:${hit}`)
  }
  expect(offenders).toEqual([])
})

test('the scan itself sees a long sleep, in each form, and lets short ones and FakeClock steps be', () => {
  expect(longSleeps('await Bun.sleep(1_100) // a fresh second')).toHaveLength(1)
  expect(longSleeps('const SETTLE_MS = 1_500\nawait Bun.sleep(SETTLE_MS)')).toHaveLength(1)
  expect(longSleeps('await new Promise((r) => setTimeout(r, 250))')).toHaveLength(1)
  expect(longSleeps('await new Promise((resolve) => setTimeout(() => resolve(), 2000))')).toHaveLength(1)
  expect(longSleeps('await Bun.sleep(20)\nawait Bun.sleep(100)')).toEqual([])
  expect(longSleeps('clock.advance(5_000)\nawait clock.sleep(5_000)')).toEqual([])
  expect(longSleeps("const timer = setTimeout(() => reject(new Error('not up')), 15_000)")).toEqual([])
})
