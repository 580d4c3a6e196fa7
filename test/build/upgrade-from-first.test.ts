/**
 * Upgrades never break a pod: a home made by the first landed build (commit 91deeb7, compiled
 * from this repository's history) with public and private memories and a peer is opened by
 * today's binary: every memory reads back (private ones decrypted, found by recall), the peer is
 * kept, and the pod pulls from it and serves it. The schema upgrade rewrites rows, so the old
 * pod.db is kept beside it and the log says so. A home whose schema is newer than the binary is
 * refused with a message naming both versions, and its pod.db stays byte for byte the same.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { MIGRATIONS } from '../../src/store/migrations'
import { copiesFrom, identityOf, remember, syncNow } from '../helpers/federation'
import { oldBinary } from '../helpers/old-build'
import { runCli, spawnPod, tempDir, type PodProcess } from '../helpers/pod-process'

const FIRST_BUILD = '91deeb7'
/** Building the old commit the first time on a machine (cached afterwards). */
const BUILD_TIMEOUT_MS = 600_000

let old: string
/** The homes, and the pod B that outlives one test; stopped and removed after the last test. */
const files = new AsyncDisposableStack()
const root = files.use(tempDir('mzm-upgrade-')).path

beforeAll(() => {
  old = oldBinary(FIRST_BUILD)
}, BUILD_TIMEOUT_MS)

afterAll(() => files.disposeAsync())

/** Stops a pod the test started and expects a clean exit (`await using` stops it anyway if the test failed first). */
async function stopped(pod: PodProcess): Promise<void> {
  expect(await pod.stop()).toBe(0)
}

/** Every file of a home and its bytes (the lock file, which the pod removes, aside). */
function snapshot(home: string): Map<string, string> {
  const files = new Map<string, string>()
  const visit = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name)
      if (e.isDirectory()) visit(p)
      else if (e.isFile()) files.set(p.slice(home.length), new Bun.CryptoHasher('sha256').update(readFileSync(p)).digest('hex'))
    }
  }
  visit(home)
  return files
}

describe(`a home made by the first build (${FIRST_BUILD})`, () => {
  const home = () => join(root, 'a')
  let peerB: PodProcess
  let aId: string
  const ids: Record<string, string> = {}

  test('the old build makes a home: public and private memories, a peer', async () => {
    expect(Bun.spawnSync([old, '--version']).stdout.toString().trim()).toBe('0.1.0')
    peerB = files.use(await spawnPod({ home: join(root, 'b') }))
    await using a = await spawnPod({ home: home(), command: [old] })
    aId = (await identityOf(a)).pod_id
    ids.public = await remember(a, 'public:lighthouse', 'the lighthouse keeper logs every ship')
    ids.private = await remember(a, 'note:diary', 'a private entry about the lighthouse')
    const add = await a.api('POST', '/peer/add', { handshake_url: (await identityOf(peerB)).handshake_url, direct_url: peerB.url })
    expect(add.status).toBe(201)
    // The old build keeps private content encrypted at rest.
    const db = new Database(join(home(), 'pod.db'), { readonly: true })
    const stored = db.query('SELECT content FROM memories WHERE id = ?').get(ids.private!) as { content: string }
    db.close()
    expect(stored.content.startsWith('AES:')).toBe(true)
    await stopped(a)
  })

  test('today’s binary opens it: memories read back (private decrypted), the peer is kept, the old pod.db kept beside it', async () => {
    await using a = await spawnPod({ home: home() })
    expect(a.logs()).toContain(`op=migrate from=3 to=${MIGRATIONS.length} copy=${join(home(), 'pod.db.schema-v3.bak')}`)
    expect(existsSync(join(home(), 'pod.db.schema-v3.bak'))).toBe(true)
    expect((await a.api('GET', `/memories/${ids.public}`)).body).toMatchObject({ label: 'public:lighthouse', content: 'the lighthouse keeper logs every ship' })
    expect((await a.api('GET', `/memories/${ids.private}`)).body).toMatchObject({ label: 'note:diary', content: 'a private entry about the lighthouse' })
    const recalled = await a.api('GET', '/recall?q=lighthouse')
    expect((recalled.body.results as { id: string }[]).map((r) => r.id).sort()).toEqual([ids.public!, ids.private!].sort())
    const peers = await a.api('GET', '/peer/peers')
    expect((peers.body.peers as { id: string }[]).map((p) => p.id)).toEqual([(await identityOf(peerB)).pod_id])
    await stopped(a)
  })

  test('and it federates: pairs with today’s pod, pulls from it and serves it', async () => {
    await using a = await spawnPod({ home: home() })
    // A's record of B (its URL too) is as the old build stored it; today's pod B pastes A's handshake now.
    const b = peerB
    const bId = (await identityOf(b)).pod_id
    expect((await b.api('POST', '/peer/add', { handshake_url: (await identityOf(a)).handshake_url, direct_url: a.url })).status).toBe(201)
    await remember(b, 'public:from-today', 'written by today’s pod')
    // A's own loop may have pulled already (its first pull was refused before B knew A): the copy counts, not who stored it.
    expect((await syncNow(a, bId))[0]).toMatchObject({ ok: true })
    expect(await copiesFrom(a, bId)).toEqual([`peer:${bId}:public:from-today`])
    expect((await syncNow(b, aId))[0]).toMatchObject({ ok: true })
    expect(await copiesFrom(b, aId)).toEqual([`peer:${aId}:public:lighthouse`])
    await stopped(a)
  })

  test('a home whose schema is newer than this binary is refused, naming both versions; pod.db is left byte for byte', async () => {
    const db = new Database(join(home(), 'pod.db'))
    db.run(`PRAGMA user_version = ${MIGRATIONS.length + 1}`)
    db.close()
    const before = snapshot(home())
    const r = await runCli(['serve', '--port', '0', '--home', home()])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(
      `pod.db has schema v${MIGRATIONS.length + 1}, written by a newer mazemaker; this one (0.1.0) knows schema v${MIGRATIONS.length} at most`,
    )
    expect(snapshot(home())).toEqual(before)
  })
})
