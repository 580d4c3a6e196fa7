/**
 * Child of rendezvous-purge.bench.ts, run under Bun against one tree's src (argv: tree root,
 * database file, purges, start time in ms). It opens the rendezvous store on the file (an open
 * applies the tree's schema and purges once), then PURGES times advances its clock by
 * PURGE_INTERVAL_MS and registers a new id (that register runs the purge in its transaction),
 * then registers another at the same time (no purge). Prints one JSON line: milliseconds of the
 * open, of each purging register and of each plain one, and the rows held at the end.
 */
import { join } from 'node:path'

const [root, file, purges, start] = process.argv.slice(2) as [string, string, string, string]
const { openRendezvousStore, sha256Hex } = await import(join(root, 'src/rendezvous/store.ts'))
const { FakeClock } = await import(join(root, 'src/lib/clock.ts'))
const { PURGE_INTERVAL_MS } = await import(join(root, 'src/rendezvous/constants.ts'))

const clock = new FakeClock(Number(start))
const keyHash = sha256Hex('K'.repeat(43))
let n = 0
const register = () => {
  n++
  const t0 = performance.now()
  store.register({
    peer_id: `ffffffff-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
    url: 'http://10.9.9.9:8765',
    key_hash: keyHash,
    token_id: `bench${n}`,
    ts: n,
  })
  return performance.now() - t0
}

const opened = performance.now()
const store = openRendezvousStore(file, clock)
const openMs = performance.now() - opened
const purgeMs: number[] = []
const plainMs: number[] = []
for (let i = 0; i < Number(purges); i++) {
  clock.advance(PURGE_INTERVAL_MS)
  purgeMs.push(register())
  plainMs.push(register())
}
console.log(JSON.stringify({ openMs, purgeMs, plainMs, rows: store.count() }))
store.close()
