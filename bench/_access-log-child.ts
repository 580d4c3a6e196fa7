/**
 * Child of access-log.bench.ts, run under Bun against one tree's src (argv: tree root, directory,
 * peers, turns). A store on a fresh pod.db; each turn records one served page (one entry) for
 * every peer, as a hub's wake does, then reads one peer's log (which writes what the turn queued).
 * Prints one JSON line: CPU microseconds per served page over the turns after a warm-up of 100.
 */
import { join } from 'node:path'

const [root, dir, peersArg, turnsArg] = process.argv.slice(2) as [string, string, string, string]
const { openStore } = await import(join(root, 'src/store/index.ts'))
const { FakeClock } = await import(join(root, 'src/lib/clock.ts'))

const store = openStore({
  path: join(dir, 'pod.db'),
  vaultKey: new Uint8Array(32),
  clock: new FakeClock(),
  publicPrefixes: ['public:'],
  maxContentBytes: 65_536,
})
const peers = Array.from({ length: Number(peersArg) }, (_, i) => `6356db37-0f1e-4c2a-9d7b-${i.toString(16).padStart(12, '0')}`)
const page = [
  {
    id: '0190aaaa-0000-7000-8000-000000000001',
    label: 'public:x',
    content: 'y',
    created_at: '2026-12-01T00:00:00.000Z',
    updated_at: '2026-12-01T00:00:00.000Z',
  },
]
const turn = () => {
  for (const p of peers) store.recordServedPage(p, page, ['public:*'])
  store.accessLog(peers[0], { limit: 1 })
}
for (let i = 0; i < 100; i++) turn()
const turns = Number(turnsArg)
const before = process.cpuUsage()
for (let i = 0; i < turns; i++) turn()
const used = process.cpuUsage(before)
store.close()
console.log(JSON.stringify({ usPerPage: (used.user + used.system) / (turns * peers.length) }))
