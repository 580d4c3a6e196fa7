/**
 * The access log's writes at a hub: each turn of the event loop, every woken spoke's page is
 * recorded (a row per page, its peer's head moved), and the turn's rows are written together in
 * the deferred write (src/store/access-log.ts). A child process per tree and round (Bun) records
 * PEERS pages a turn for TURNS turns on a fresh pod.db: CPU microseconds per served page.
 * BASE=<a checkout with node_modules> runs that tree's store beside this one's, alternating
 * ROUNDS times (default 5); the minimum of each counts.
 *
 *   npx bun bench/access-log.bench.ts
 *   BASE=/work/wt/base PEERS=2000 npx bun bench/access-log.bench.ts
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { envInt, loadNote } from './_fed-util'
import { fmt, row } from './_util'

const PEERS = envInt('PEERS', 200)
const TURNS = envInt('TURNS', Math.max(20, Math.round(200_000 / PEERS)))
const ROUNDS = envInt('ROUNDS', 5)
const ROOT = resolve(import.meta.dir, '..')
const CHILD = join(import.meta.dir, '_access-log-child.ts')
const BASE = process.env.BASE ? resolve(process.env.BASE) : ''

function once(tree: string): number {
  const dir = mkdtempSync(join(tmpdir(), 'mzm-access-log-'))
  try {
    const out = Bun.spawnSync([process.execPath, CHILD, tree, dir, String(PEERS), String(TURNS)], { stderr: 'inherit' })
    if (out.exitCode !== 0) throw new Error(`child for ${tree} exited ${out.exitCode}`)
    return (JSON.parse(out.stdout.toString().trim().split('\n').pop()!) as { usPerPage: number }).usPerPage
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

console.log(`# access log: ${PEERS} pages recorded a turn, ${TURNS} turns, ${ROUNDS} rounds (Bun ${Bun.version}; ${loadNote()})`)
const trees = BASE ? [ROOT, BASE] : [ROOT]
const best = new Map<string, number>()
for (let r = 0; r < ROUNDS; r++) {
  for (const tree of trees) {
    const us = once(tree)
    best.set(tree, Math.min(best.get(tree) ?? Number.POSITIVE_INFINITY, us))
    row(`${tree === ROOT ? 'this tree' : 'BASE'}: round ${r + 1}`, `${fmt(us, 2)} µs`, 'CPU per served page')
  }
}
row('this tree: min', `${fmt(best.get(ROOT)!, 2)} µs`, 'CPU per served page')
if (BASE) {
  row('BASE: min', `${fmt(best.get(BASE)!, 2)} µs`, 'CPU per served page')
  row('this tree / BASE', `${fmt(best.get(ROOT)! / best.get(BASE)!, 2)}x`)
}
