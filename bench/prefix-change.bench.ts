/**
 * The open after `auto:` was removed from public_prefixes, on a store of N
 * memories (half `auto:`, half `public:`): re-encrypt + blind-index + tombstone the auto: half,
 * then the scrub (FTS optimize, VACUUM, WAL truncate). Baselines in the same run: an open with
 * unchanged prefixes, and writing the same N memories in the first place (group commit).
 * Run: npx bun bench/prefix-change.bench.ts   (PREFIX_N=100000 by default)
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { systemClock } from '../src/lib/clock'
import { createLogger } from '../src/lib/log'
import { openStore } from '../src/store'
import { fmt, row } from './_util'

const N = Number(process.env.PREFIX_N ?? 100_000)
const dir = mkdtempSync(join(tmpdir(), 'mzm-bench-prefix-'))
const path = join(dir, 'pod.db')
const vaultKey = new Uint8Array(randomBytes(32))
const open = (publicPrefixes: string[], log = createLogger({ level: 'error' })) =>
  openStore({ path, vaultKey, publicPrefixes, maxContentBytes: 65536, clock: systemClock, log })

try {
  let t0 = performance.now()
  const store = open(['public:', 'auto:'])
  const CHUNK = 1000
  for (let i = 0; i < N; i += CHUNK) {
    await Promise.all(
      Array.from({ length: Math.min(CHUNK, N - i) }, (_, k) => {
        const j = i + k
        return store.rememberGrouped({ label: `${j % 2 ? 'public' : 'auto'}:m${j}`, content: `session ${j} notes about walrus${j % 991} and the word w${j}` })
      }),
    )
  }
  store.close()
  const writeMs = performance.now() - t0
  const sizeMb = statSync(path).size / 1e6

  t0 = performance.now()
  open(['public:', 'auto:']).close()
  const unchangedMs = performance.now() - t0

  const lines: string[] = []
  t0 = performance.now()
  const after = open(['public:'], createLogger({ sink: (l) => lines.push(l) }))
  const changedMs = performance.now() - t0
  after.close()
  const ms = (op: string) => Number(/ ms=(\d+)/.exec(lines.find((l) => l.includes(`op=${op} `) && l.includes(' ms=')) ?? '')?.[1] ?? NaN)

  console.log(`prefix change on ${N} memories (${N / 2} made private), pod.db ${fmt(sizeMb)} MB`)
  row('write N memories (baseline)', `${fmt(writeMs, 0)} ms`)
  row('open, prefixes unchanged', `${fmt(unchangedMs, 0)} ms`)
  row('open after `auto:` removed', `${fmt(changedMs, 0)} ms`, `${fmt(changedMs / writeMs, 2)}x the write`)
  row('  of which reconcile', `${ms('reconcile')} ms`)
  row('  of which scrub', `${ms('scrub')} ms`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
