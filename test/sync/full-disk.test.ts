/**
 * A puller whose home is on a full filesystem (a real 4 MiB tmpfs, filled): the pull fails with
 * disk_full, the loop answers and backs off (no exception out of sync-now, no busy loop), nothing
 * is stored and the cursor does not move; once space is back the next pull, due by itself,
 * stores everything. Said once at warn, and again when it is over.
 */
import { afterEach, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FakeClock, SECOND_MS } from '../../src/lib/clock'
import { memoryLogger } from '../../src/lib/log'
import { type Pod, startPod } from '../../src/pod'
import type { SyncLoop } from '../../src/sync/sync-loop'
import { tempHome } from '../helpers/pod-process'
import { syncLoopInto } from '../helpers/sync-loop'

let cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.reverse()) await c()
  cleanups = []
})

/** A 4 MiB tmpfs, unmounted after the test. */
function smallFilesystem(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mzm-full-'))
  const mount = Bun.spawnSync(['mount', '-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir])
  if (mount.exitCode !== 0) throw new Error(`mount tmpfs: ${mount.stderr.toString()}`)
  cleanups.push(() => {
    Bun.spawnSync(['umount', '-l', dir])
    rmSync(dir, { recursive: true, force: true })
  })
  return dir
}

/** Fills `dir` with 64 KiB files until the filesystem refuses; returns them (delete to free space). */
function fill(dir: string): string[] {
  const files: string[] = []
  for (;;) {
    const f = join(dir, `filler-${files.length}`)
    try {
      writeFileSync(f, Buffer.alloc(64 * 1024))
    } catch {
      return files
    }
    files.push(f)
  }
}

async function pod(home: string, clock: FakeClock): Promise<Pod> {
  const p = await startPod({ home, port: 0, host: '127.0.0.1', clock, log: memoryLogger(), autoSync: false })
  cleanups.push(() => p.close())
  return p
}

/**
 * A holds `memories` shareable memories of ~10 KB; B, its puller, lives on a small filesystem of
 * its own. Both paired, on one fake clock.
 */
async function pairedOnSmallDisk(memories: number) {
  const fs = smallFilesystem()
  const clock = new FakeClock()
  const homeA = tempHome('mzm-full-a-')
  cleanups.push(() => rmSync(homeA, { recursive: true, force: true }))
  const homeB = join(fs, 'home')
  mkdirSync(homeB, { mode: 0o700 })
  const a = await pod(homeA, clock)
  const b = await pod(homeB, clock)
  a.home.peers.add({ id: b.home.identity.podId, key: b.home.identity.publicKey, url: b.url, sync: false })
  b.home.peers.add({ id: a.home.identity.podId, key: a.home.identity.publicKey, url: a.url })
  for (let i = 0; i < memories; i++) a.store.remember({ label: `public:m${i}`, content: `${'x'.repeat(10_000)} ${i}` })
  return { fs, clock, homeB, a, b }
}

test('a full disk: the pull fails and backs off, nothing is lost, and it resumes by itself once space is back', async () => {
  const { fs, clock, a, b } = await pairedOnSmallDisk(200)

  const fillers = fill(fs)
  const log = memoryLogger()
  const results: { ok: boolean; error?: string }[] = []
  const { loop } = syncLoopInto(b, clock, { log, liveWaitSeconds: 0, onPulled: (_, r) => results.push(r) })
  cleanups.unshift(() => loop.close())
  const first = await loop.syncNow()
  expect(first).toEqual([expect.objectContaining({ ok: false, error: 'disk_full', detail: expect.stringContaining('the disk is full: ') })])
  expect(b.store.countPeerCopies(a.id)).toBe(0)
  expect(b.store.peerState(a.id).cursor).toBeNull()

  // The loop backs off: nothing more within the first 5 s, one more try after them.
  loop.start()
  await settle(loop)
  const after = results.length
  clock.advance(4 * SECOND_MS)
  await settle(loop)
  expect(results.length).toBe(after)

  // Space is back: the next pull, due by itself, stores all 200.
  for (const f of fillers) rmSync(f)
  for (let i = 0; i < 10 && b.store.countPeerCopies(a.id) < 200; i++) {
    clock.advance(60 * SECOND_MS)
    await settle(loop)
  }
  expect(b.store.countPeerCopies(a.id)).toBe(200)
  expect(results.at(-1)).toMatchObject({ ok: true })
  // Said once at warn (repeats at debug), never as an error of ours; and when it is over.
  expect(log.lines.filter((l) => l.includes('level=warn') && l.includes('err=disk_full'))).toHaveLength(1)
  expect(log.lines.filter((l) => l.includes('level=error'))).toEqual([])
  expect(log.lines.some((l) => l.includes('level=info') && l.includes('there is room on the disk again'))).toBe(true)
}, 60_000)

test('the peer list says disk-full while the disk refuses its pulls, naming the filesystem, and ready once a pull stores again', async () => {
  const { fs, homeB, a, b } = await pairedOnSmallDisk(50)
  const token = readFileSync(join(homeB, 'admin.token'), 'utf8').trim()
  const peerOfB = async () => {
    const res = await b.request('/peer/peers', { headers: { authorization: `Bearer ${token}` } })
    return ((await res.json()) as { peers: { id: string; status: string; hint: string | null; last_error: string | null }[] }).peers[0]!
  }
  expect(await b.syncNow()).toEqual([expect.objectContaining({ ok: true, fetched: 50 })])
  expect((await peerOfB()).status).toBe('ready')

  a.store.remember({ label: 'public:more', content: 'x'.repeat(10_000) })
  const fillers = fill(fs)
  expect(await b.syncNow()).toEqual([expect.objectContaining({ ok: false, error: 'disk_full' })])
  const full = await peerOfB()
  expect(full.status).toBe('disk-full')
  expect(full.hint).toStartWith('its last pull stored nothing: the disk is full: ')
  expect(full.hint).toContain(fs)
  expect(full.last_error).toStartWith('the disk is full: ')

  for (const f of fillers) rmSync(f)
  expect(await b.syncNow()).toEqual([expect.objectContaining({ ok: true, stored: 1 })])
  expect(await peerOfB()).toMatchObject({ status: 'ready', hint: null, last_error: null })
}, 60_000)

/** Lets the loop act on the time just set, then waits for the pulls it started. */
async function settle(loop: SyncLoop) {
  for (let i = 0; i < 3; i++) {
    await Bun.sleep(5)
    await loop.idle()
  }
}
