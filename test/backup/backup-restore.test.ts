/**
 * Backup while the pod takes writes, restore elsewhere: every memory acknowledged before the
 * backup began is in the restored pod (private ones readable, so the vault key came along), and
 * a peer pulls from the restored pod with the pairing it already had.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createBackup, restoreBackup } from '../../src/backup'
import { PodError } from '../../src/lib/errors'
import { cleanup, runCli, spawnPod, tempHome, type PodProcess } from '../helpers/pod-process'
import { addPeer, identityOf, remember, syncNow } from '../helpers/federation'
import { type InProcessPod, inProcessPod } from '../helpers/in-process-pod'

const PASS = 'kelp forest lantern seventeen'
/** age's default (and what the CLI always uses): 2^18, about a second of CPU per derivation. */
const FULL_WORK_FACTOR = 18
const TEST_WORK_FACTOR = 10
const pods: PodProcess[] = []
const inProcess: InProcessPod[] = []
const homes: string[] = []
afterAll(async () => {
  await Promise.all(inProcess.map((p) => p.close()))
  await cleanup(pods, homes)
})

/** The scrypt work factor an age file names in its header (`-> scrypt <salt> <logN>`). */
function scryptWorkFactorOf(bytes: Uint8Array): number {
  const stanza = /^-> scrypt \S+ (\d+)$/m.exec(Buffer.from(bytes.subarray(0, 200)).toString('latin1'))
  if (!stanza) throw new Error('not an age file with a scrypt recipient')
  return Number(stanza[1])
}

/** The error `p` rejects with: one of ours, and not a usage mistake, so the CLI prints it as one line and exits 1. */
async function refusal(p: Promise<unknown>): Promise<PodError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(PodError)
  expect((err as PodError).code).not.toBe('usage')
  return err as PodError
}

async function allIds(pod: PodProcess): Promise<Set<string>> {
  const ids = new Set<string>()
  let cursor: string | null = null
  do {
    const q: string = cursor ? `&cursor=${cursor}` : ''
    const res = await pod.api('GET', `/memories?limit=500${q}`)
    expect(res.status).toBe(200)
    for (const m of res.body.memories) ids.add(m.id)
    cursor = res.body.cursor
  } while (cursor)
  return ids
}

describe('backup and restore', () => {
  test('under a write load: nothing acknowledged before the backup is lost, and a peer pulls from the restored pod without pairing again', async () => {
    const a = await spawnPod()
    const b = await spawnPod()
    pods.push(a, b)
    const aId = (await identityOf(a)).pod_id
    const bId = (await identityOf(b)).pod_id
    await addPeer(a, b)
    await addPeer(b, a)
    const secretId = await remember(a, 'note:vault-check', 'the spare key is under the blue pot')
    await remember(a, 'public:before-first-pull', 'pulled once before the backup')
    expect((await syncNow(b, aId))[0]).toMatchObject({ ok: true })

    // Four writers keep remembering until told to stop; each id is recorded when its 201 arrives.
    const acked: { id: string; at: number }[] = []
    let stop = false
    let n = 0
    const writers = Array.from({ length: 4 }, async () => {
      while (!stop) {
        const i = n++
        acked.push({ id: await remember(a, `public:load-${i}`, `load memory ${i}`), at: performance.now() })
      }
    })
    while (acked.length < 50) await Bun.sleep(10)

    const file = join(tempHome('mzm-bk-out-'), 'pod.age')
    homes.push(join(file, '..'))
    const began = performance.now()
    const backup = await runCli(['backup', file, '--home', a.home], { MAZEMAKER_BACKUP_PASSPHRASE: PASS })
    const during = acked.filter((x) => x.at > began).length
    stop = true
    await Promise.all(writers)
    // Nothing but (on a slow machine) progress lines.
    expect(backup.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('backup: '))).toEqual([])
    expect(backup.code).toBe(0)
    expect(backup.stdout).toContain(`written to ${file}`)
    expect(during).toBeGreaterThan(0) // the load really ran while the backup did
    const before = acked.filter((x) => x.at < began).map((x) => x.id)

    expect(statSync(file).mode & 0o777).toBe(0o600)
    const bytes = readFileSync(file)
    expect(bytes.subarray(0, 22).toString()).toBe('age-encryption.org/v1\n')
    expect(scryptWorkFactorOf(bytes)).toBe(FULL_WORK_FACTOR) // the shipped command never weakens the KDF
    expect(bytes.includes(Buffer.from('load memory'))).toBe(false)

    const home = join(tempHome('mzm-bk-restore-'), 'restored')
    homes.push(join(home, '..'))
    const restored = await runCli(['restore', file, '--home', home], { MAZEMAKER_BACKUP_PASSPHRASE: PASS })
    expect(restored.stderr).toBe('')
    expect(restored.code).toBe(0)
    expect(restored.stdout).toContain(`restored pod ${aId} into ${home}`)
    for (const f of ['pod.toml', 'peers.toml', 'vault.key', 'admin.token', 'pod.db', 'peer-keys/self.key', `peer-keys/peers/${bId}.key`]) {
      expect(statSync(join(home, f)).mode & 0o777).toBe(0o600)
      if (f !== 'pod.db') expect(readFileSync(join(home, f))).toEqual(readFileSync(join(a.home, f)))
    }
    expect(statSync(home).mode & 0o777).toBe(0o700)

    // The original goes away; the restored pod takes its place (here on another port).
    expect(await a.stop()).toBe(0)
    const c = await spawnPod({ home })
    pods.push(c)
    expect((await identityOf(c)).pod_id).toBe(aId)
    const ids = await allIds(c)
    const missing = before.filter((id) => !ids.has(id))
    expect(missing).toEqual([])
    expect((await c.api('GET', `/memories/${secretId}`)).body.content).toBe('the spare key is under the blue pot')

    expect((await b.api('PATCH', `/peer/peers/${aId}`, { url: c.url })).status).toBe(200)
    const pulled = await syncNow(b, aId)
    expect(pulled[0]).toMatchObject({ ok: true })
    const first = await b.api('GET', `/memories?prefix=${encodeURIComponent(`peer:${aId}:public:before-first-pull`)}`)
    expect(first.body.memories).toHaveLength(1)
    // B now holds a copy of every public memory acknowledged before the backup.
    const copies = new Set<string>()
    for (let cursor: string | null = null, first = true; first || cursor; first = false) {
      const res: { body: any } = await b.api('GET', `/memories?origin=${aId}&limit=500${cursor ? `&cursor=${cursor}` : ''}`)
      for (const m of res.body.memories) copies.add(m.label)
      cursor = res.body.cursor
    }
    expect(copies.size).toBeGreaterThanOrEqual(before.length + 1)
    // And the restored pod pulls from its peer with the restored keys.
    expect((await c.api('PATCH', `/peer/peers/${bId}`, { url: b.url })).status).toBe(200)
    expect((await syncNow(c, bId))[0]).toMatchObject({ ok: true })
  }, 180_000)

  test('backup and restore tell their progress in bytes, up to the whole', async () => {
    const a = await inProcessPod()
    inProcess.push(a)
    for (let i = 0; i < 50; i++) await remember(a, `public:bytes-${i}`, 'x'.repeat(2000))
    const dir = tempHome('mzm-bk-progress-')
    homes.push(dir)
    const file = join(dir, 'p.age')
    const seen: [number, number][] = []
    await createBackup({ home: a.home, out: file, passphrase: PASS, scryptWorkFactor: TEST_WORK_FACTOR, onProgress: (d, t) => seen.push([d, t]) })
    expect(seen.length).toBeGreaterThan(1)
    const [done, total] = seen.at(-1)!
    expect(done).toBe(total)
    expect(total).toBeGreaterThan(100_000)
    const restored: [number, number][] = []
    await restoreBackup({ file, home: join(dir, 'restored'), passphrase: PASS, onProgress: (d, t) => restored.push([d, t]) })
    expect(restored.at(-1)).toEqual([statSync(file).size, statSync(file).size])
  }, 60_000)

  test('restore refuses a non-empty home, a wrong passphrase, a damaged or truncated file, and leaves nothing behind', async () => {
    // In process, on an archive made at a low scrypt work factor: refusals need *a* backup, not a
    // second of key derivation per attempt (the round trip above runs the real CLI at full strength).
    const a = await inProcessPod()
    inProcess.push(a)
    await remember(a, 'public:x', 'y')
    const dir = tempHome('mzm-bk-neg-')
    homes.push(dir)
    const file = join(dir, 'b.age')
    await createBackup({ home: a.home, out: file, passphrase: PASS, scryptWorkFactor: TEST_WORK_FACTOR })
    expect(scryptWorkFactorOf(readFileSync(file))).toBe(TEST_WORK_FACTOR)

    const full = join(dir, 'full')
    mkdirSync(full)
    writeFileSync(join(full, 'something'), 'x')
    expect((await refusal(restoreBackup({ file, home: full, passphrase: PASS }))).message).toContain('is not empty')
    expect(readdirSync(full)).toEqual(['something'])

    expect((await refusal(restoreBackup({ file, home: join(dir, 'wrong'), passphrase: 'not the passphrase' }))).message).toContain('wrong passphrase')
    const bytes = readFileSync(file)
    const damaged = join(dir, 'damaged.age')
    const flipped = Buffer.from(bytes)
    flipped[flipped.length - 100]! ^= 1
    writeFileSync(damaged, flipped)
    expect((await refusal(restoreBackup({ file: damaged, home: join(dir, 'damaged'), passphrase: PASS }))).message).toContain('damaged')
    const truncated = join(dir, 'truncated.age')
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)))
    expect((await refusal(restoreBackup({ file: truncated, home: join(dir, 'truncated'), passphrase: PASS }))).message).toContain('damaged')

    // The CLI maps a refused restore to one line on stderr and exit 1 (cheap here: the file's
    // work factor is the low one).
    const wrong = await runCli(['restore', file, '--home', join(dir, 'wrong')], { MAZEMAKER_BACKUP_PASSPHRASE: 'not the passphrase' })
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toMatch(/^error: cannot open .*wrong passphrase.*\n$/)
    const bad = await runCli(['restore', damaged, '--home', join(dir, 'damaged')], { MAZEMAKER_BACKUP_PASSPHRASE: PASS })
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/^error: .*damaged/)
    expect(readdirSync(dir).sort()).toEqual(['b.age', 'damaged.age', 'full', 'truncated.age'])

    // Refusals before any key derivation: the passphrase rule, and the CLI's own arguments.
    expect((await refusal(createBackup({ home: a.home, out: join(dir, 'c.age'), passphrase: 'short' }))).message).toContain('at least 10 characters')
    const [short, noTty, noDir, noHome] = await Promise.all([
      runCli(['backup', join(dir, 'c.age'), '--home', a.home], { MAZEMAKER_BACKUP_PASSPHRASE: 'short' }),
      runCli(['backup', join(dir, 'c.age'), '--home', a.home]),
      runCli(['backup', join(dir, 'missing', 'c.age'), '--home', a.home], { MAZEMAKER_BACKUP_PASSPHRASE: PASS }),
      runCli(['restore', file], { MAZEMAKER_BACKUP_PASSPHRASE: PASS }),
    ])
    expect(short.code).toBe(1)
    expect(short.stderr).toContain('at least 10 characters')
    expect(noTty.code).toBe(2)
    expect(noTty.stderr).toContain('set MAZEMAKER_BACKUP_PASSPHRASE')
    // A missing output directory is one line saying so, not a stack trace.
    expect(noDir.code).toBe(1)
    expect(noDir.stderr).toBe(`error: no directory ${join(dir, 'missing')} to write the backup into; create it first\n`)
    expect(noHome.code).toBe(2)
    expect(noHome.stderr).toContain('restore needs --home DIR')
    expect(readdirSync(dir).sort()).toEqual(['b.age', 'damaged.age', 'full', 'truncated.age'])
  }, 60_000)
})
