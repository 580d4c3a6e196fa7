/**
 * What sealing costs a pull: pod B pulls N shareable memories from pod A
 * sealed, and the same pull unsealed, in one run. Target: sealed / unsealed ≤ 1.15.
 *
 * The pod has no way to speak unsealed (a plain body is refused with 415), so the unsealed pull
 * is measured two ways, both printed:
 *
 * 1. Direct: the same pull between pods built from the commit just before sealing landed (the
 *    parent of the commit that introduced sealSyncResponse in src/http/peer-sync.ts, or
 *    SEAL_BASELINE_REF), exported (git archive) into a temporary directory and run from source beside
 *    the current tree, on the same A home. Sealed and unsealed pulls alternate (ROUNDS each, a
 *    fresh B every time) and the fastest of each counts, so load drift on a shared machine hits
 *    both alike. Only valid while that commit and this tree differ by little more than sealing:
 *    the baseline commit is printed, with the number of commits since.
 * 2. Subtraction: the seal and open work of exactly the pages A serves (request: seal + open;
 *    response: seal + open of each encoded page), timed in this process, and the ratio
 *    sealed / (sealed − that work). Assumes every seal and open sits on the critical path (none
 *    overlaps the network or the store), so it overstates the cost.
 *
 *   npx bun bench/sealing.bench.ts            # N=100000, ROUNDS=2
 *   N=10000 npx bun bench/sealing.bench.ts    # smoke run
 */
import { execFileSync } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdirSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { importPairKey } from '../src/identity'
import { encodeSyncRequest, encodeSyncResponse, openRequest, openResponse, sealKeys, sealRequest, sealResponse, newNonce } from '../src/protocol'
import { PAGE_LIMIT } from '../src/sync/constants'
import { spawnPod, tempHome, type PodProcess } from '../test/helpers/pod-process'
import { fmt, row } from './_util'
import { addPeer, cpuSeconds, envInt, fillHome, identityOf, loadNote, servedPages, timedSyncNow } from './_fed-util'

const N = envInt('N', 100_000)
const ROUNDS = envInt('ROUNDS', 2)
const TARGET = 1.15
const ROOT = join(import.meta.dir, '..')

const git = (...args: string[]) => execFileSync('git', ['-C', ROOT, ...args], { encoding: 'utf8' }).trim()

/** The commit before sealing: parent of the first commit whose peer-sync.ts seals answers. */
function baselineRef(): string {
  if (process.env.SEAL_BASELINE_REF) return git('rev-parse', process.env.SEAL_BASELINE_REF)
  const introducing = git('log', '--format=%H', '-S', 'sealSyncResponse', '--', 'src/http/peer-sync.ts').split('\n').filter(Boolean).at(-1)
  if (!introducing) throw new Error('no commit introduces sealing in src/http/peer-sync.ts; set SEAL_BASELINE_REF')
  return git('rev-parse', `${introducing}^`)
}

/** One pull of everything by a fresh B from A, both run from `main` (src/main.ts of a tree): wall and CPU (A + B) seconds. */
async function pull(main: string, homeA: string, homes: string[]): Promise<{ wallS: number; cpuS: number }> {
  const command = [process.execPath, main]
  const pods: PodProcess[] = []
  try {
    const a = await spawnPod({ home: homeA, command })
    pods.push(a)
    const b = await spawnPod({ home: tempHome('mzm-seal-b-'), command })
    pods.push(b)
    homes.push(b.home)
    const [idA, idB] = await Promise.all([identityOf(a), identityOf(b)])
    await addPeer(a, idB.handshake_url, { sync: false })
    await addPeer(b, idA.handshake_url, { direct_url: a.url })
    const cpu0 = cpuSeconds(a.pid) + cpuSeconds(b.pid)
    const round = await timedSyncNow(b, idA.pod_id)
    const cpuS = cpuSeconds(a.pid) + cpuSeconds(b.pid) - cpu0
    const r = round.results[0]!
    if (r.fetched !== N || r.stored !== N) throw new Error(`${main}: B fetched ${r.fetched} / stored ${r.stored}, expected ${N}`)
    return { wallS: round.ms / 1000, cpuS }
  } finally {
    await Promise.all(pods.map((p) => p.stop()))
  }
}

/** Seconds of seal + open work for the request and answer of every page, in this process. */
async function sealWorkS(pages: ReturnType<typeof servedPages>): Promise<number> {
  const pairKey = await importPairKey(randomBytes(32))
  const keys = sealKeys(pairKey, randomUUID(), randomUUID())
  const encoded = pages.map((p) => encodeSyncResponse(p)) // encoding happens sealed or not: not counted
  const request = encodeSyncRequest({ since: '123456', scope: ['public:*'], limit: PAGE_LIMIT })
  let best = Infinity
  for (let run = 0; run < 3; run++) {
    const t = performance.now()
    for (const plain of encoded) {
      const nonce = newNonce()
      openRequest(keys, nonce, sealRequest(keys, nonce, request))
      openResponse(keys, nonce, sealResponse(keys, nonce, plain))
    }
    best = Math.min(best, (performance.now() - t) / 1000)
  }
  return best
}

async function main(): Promise<void> {
  console.log(`# sealing: B pulls ${N} memories from A, sealed vs unsealed (Bun ${Bun.version}; ${loadNote()})`)
  const base = baselineRef()
  const since = git('rev-list', '--count', `${base}..HEAD`)
  const baseDir = join(tmpdir(), `mzm-seal-baseline-${process.pid}`)
  const homeA = tempHome('mzm-seal-a-')
  const homes = [homeA]
  // An export of the tree, not a git worktree: nothing in the repository changes.
  mkdirSync(baseDir)
  execFileSync('sh', ['-c', `git -C "${ROOT}" archive ${base} src package.json tsconfig.json | tar -x -C "${baseDir}"`])
  try {
    symlinkSync(join(ROOT, 'node_modules'), join(baseDir, 'node_modules'))
    const t = performance.now()
    const hA = await fillHome(homeA, { publicN: N, privateN: 0 })
    const pages = servedPages(hA, PAGE_LIMIT)
    console.log(
      `  (filled A in ${fmt((performance.now() - t) / 1000)} s; ${pages.length} pages; unsealed baseline ${base.slice(0, 10)}, ${since} commits before this tree)`,
    )

    const sealed: { wallS: number; cpuS: number }[] = []
    const plain: { wallS: number; cpuS: number }[] = []
    for (let i = 0; i < ROUNDS; i++) {
      sealed.push(await pull(join(ROOT, 'src/main.ts'), homeA, homes))
      plain.push(await pull(join(baseDir, 'src/main.ts'), homeA, homes))
    }
    const s = Math.min(...sealed.map((x) => x.wallS))
    const p = Math.min(...plain.map((x) => x.wallS))
    const sCpu = Math.min(...sealed.map((x) => x.cpuS))
    const pCpu = Math.min(...plain.map((x) => x.cpuS))
    const runs = (xs: { wallS: number }[]) => xs.map((x) => fmt(x.wallS, 2)).join(' / ')
    console.log('\n## 1. direct: the same pull by pods from before sealing')
    row('sealed pull (this tree)', `${fmt(s, 2)} s`, `${fmt(N / s, 0)} memories/s; runs ${runs(sealed)} s; CPU A+B ${fmt(sCpu, 2)} s`)
    row('unsealed pull (baseline commit)', `${fmt(p, 2)} s`, `${fmt(N / p, 0)} memories/s; runs ${runs(plain)} s; CPU A+B ${fmt(pCpu, 2)} s`)
    row('ratio sealed / unsealed (wall)', `${fmt(s / p, 3)}x`, `target ≤ ${TARGET}x: ${s / p <= TARGET ? 'MET' : 'NOT MET'}`)
    row('ratio sealed / unsealed (CPU A+B)', `${fmt(sCpu / pCpu, 3)}x`, 'steadier than wall time on a shared machine')

    const work = await sealWorkS(pages)
    const mb = pages.reduce((n, pg) => n + encodeSyncResponse(pg).length, 0) / 1024 / 1024
    console.log('\n## 2. subtraction: seal + open work of the same pages')
    row('seal + open, requests and answers', `${fmt(work, 3)} s`, `${pages.length} pages, ${fmt(mb)} MB of answers (AES-256-GCM, node:crypto)`)
    row('ratio sealed / (sealed − that work)', `${fmt(s / (s - work), 3)}x`, `target ≤ ${TARGET}x: ${s / (s - work) <= TARGET ? 'MET' : 'NOT MET'}`)
    console.log(`\n(${loadNote()})`)
  } finally {
    for (const h of homes) rmSync(h, { recursive: true, force: true })
    rmSync(baseDir, { recursive: true, force: true })
  }
}

await main()
