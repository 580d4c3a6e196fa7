/**
 * Child of pull-apply.bench.ts, run under Bun or Deno against one tree's src (argv: tree root,
 * sealed-pages file). It does what a pulling pod's main thread does with each page once the
 * bytes are in: check the signature, open the seal, decode and validate the page
 * (openSyncResponse), then store it (applyRemote). The store has a commit listener, as every pod
 * has (its long-poll waiters), so the commit journal's triggers are in place as in a pod. Prints
 * one JSON line: CPU seconds of the opening and of the storing (until a recall finds the copies:
 * older trees indexed them after the pull), and the copies stored.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const [root, file] = process.argv.slice(2) as [string, string]
const { openStore } = await import(join(root, 'src/store/sqlite.ts'))
const { systemClock } = await import(join(root, 'src/lib/clock.ts'))
const { openSyncResponse } = await import(join(root, 'src/protocol/sync-exchange.ts'))
const { sealKeys } = await import(join(root, 'src/protocol/seal.ts'))
const { importPairKey } = await import(join(root, 'src/identity/pair-key.ts'))

/** What pull-apply.bench.ts wrote: the pages as a peer sealed and signed them for us. */
interface Input {
  pairKey: string
  selfId: string
  peerId: string
  pages: { nonce: string; body: string; signature: string }[]
}
const input = JSON.parse(readFileSync(file, 'utf8')) as Input
const pairKey = await importPairKey(Buffer.from(input.pairKey, 'base64'))
const keys = sealKeys(pairKey, input.selfId, input.peerId)
const pages = input.pages.map((p) => ({ sent: { nonce: p.nonce, keys }, body: new Uint8Array(Buffer.from(p.body, 'base64')), signature: p.signature }))

const dir = mkdtempSync(join(tmpdir(), 'mzm-pull-apply-'))
const store = openStore({
  path: join(dir, 'pod.db'),
  vaultKey: new Uint8Array(32).fill(7),
  publicPrefixes: ['public:'],
  maxContentBytes: 65536,
  clock: systemClock,
})
store.onCommit(() => {})
const cpu = () => {
  const c = process.cpuUsage()
  return (c.user + c.system) / 1e6
}
let openS = 0
let applyS = 0
let stored = 0
let searchS = 0
// A pull of many pages runs in the store's bulk mode, as in a pod (trees before it have none).
const endBulk = store.beginBulk?.()
try {
  pages.forEach((p, i) => {
    const t0 = cpu()
    const page = openSyncResponse({ pairKey, sent: p.sent, body: p.body, signature: p.signature })
    const t1 = cpu()
    stored += store.applyRemote(input.peerId, page.memories, page.cursor, { final: i === pages.length - 1 }).stored
    applyS += cpu() - t1
    openS += t1 - t0
  })
  // Until every copy is searchable: a recall indexes whatever an older tree left queued.
  const t2 = cpu()
  endBulk?.()
  const hits = store.recall(`word${(pages.length * 1000 - 1) % 997}`, 1)
  searchS = cpu() - t2
  if (hits.length === 0) throw new Error('a stored copy was not found by recall')
} finally {
  store.close()
  rmSync(dir, { recursive: true, force: true })
}
console.log(JSON.stringify({ openS, applyS: applyS + searchS, stored }))
