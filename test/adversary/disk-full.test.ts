/**
 * The disk under the pod's home fills up (here: the home on a 16 MiB tmpfs, then a file that
 * takes the rest). Writes must say so: 507 `disk_full`, naming the filesystem and its free
 * space, not 500 "see the pod log". `GET /status` and `mazemaker doctor` show the free space.
 * Once space is back the pod writes again by itself, and nothing acknowledged was lost.
 * Mounting needs root; the tmpfs is unmounted after.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, type PodProcess } from '../helpers/pod-process'
import { handshakeUrl, newKeyPair } from './_contract'
import { spawn } from './_fixture'

const TMPFS_BYTES = 16 * 1024 * 1024
let root: string
let home: string
let pod: PodProcess | undefined

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'mzm-full-'))
  home = join(root, 'home')
  mkdirSync(home)
  const mount = Bun.spawnSync(['mount', '-t', 'tmpfs', '-o', `size=${TMPFS_BYTES},mode=0700`, 'tmpfs', home])
  if (mount.exitCode !== 0) throw new Error(`mount tmpfs (needs root): ${mount.stderr}`)
})
afterAll(async () => {
  // Stopped here, not by stopPods: that removes the home, which is the mount point.
  const timer = setTimeout(() => void pod?.kill9(), 5000)
  await pod?.stop()
  clearTimeout(timer)
  Bun.spawnSync(['umount', home])
  rmSync(root, { recursive: true, force: true })
})

/** Fills the filesystem of `dir` with one file until it refuses (ENOSPC); returns its path. */
function fill(dir: string): string {
  const path = join(dir, 'filler')
  const fd = openSync(path, 'w')
  const chunk = new Uint8Array(64 * 1024)
  try {
    for (;;) writeSync(fd, chunk)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err
  } finally {
    closeSync(fd)
  }
  return path
}

test('a full disk: writes answer 507 disk_full naming the filesystem and its free space; once space is back, writes resume and nothing is lost', async () => {
  pod = await spawn({ home })
  const acked: string[] = []
  for (let i = 0; i < 20; i++) {
    const res = await pod.api('POST', '/memories', { label: `public:before-${i}`, content: `written before the disk filled ${i}` })
    expect(res.status).toBe(201)
    acked.push(res.body.id)
  }
  const filler = fill(home)

  // The WAL may still have room for a few small writes; larger ones soon find the disk full.
  let refused: { status: number; body: { error: string; message: string } } | undefined
  for (let i = 0; i < 200 && !refused; i++) {
    const res = await pod.api('POST', '/memories', { label: `public:during-${i}`, content: `${i} `.repeat(4000) })
    if (res.status === 201) acked.push(res.body.id)
    else refused = res
  }
  expect(refused).toBeDefined()
  expect(refused!.status).toBe(507)
  expect(refused!.body.error).toBe('disk_full')
  expect(refused!.body.message).toContain(home)
  expect(refused!.body.message).toMatch(/free/)
  expect(refused!.body.message).not.toContain('see the pod log')

  // A file write (the peer list) is refused the same way.
  const add = await pod.api('POST', '/peer/add', { handshake_url: handshakeUrl(newKeyPair()), direct_url: 'http://127.0.0.1:9', sync: false })
  expect(add.status).toBe(507)
  expect(add.body.error).toBe('disk_full')

  // What the panel reads, and doctor, show the free space.
  const status = await pod.api('GET', '/status')
  expect(status.body.disk).toMatchObject({ path: home })
  expect(status.body.disk.free_bytes).toBeLessThan(1024 * 1024)
  const doctor = await runCli(['doctor', '--json', '--home', home])
  const disk = JSON.parse(doctor.stdout).checks.find((c: { name: string }) => c.name === 'disk')
  expect(disk).toMatchObject({ ok: false, detail: expect.stringContaining(home) })

  // Space comes back: the pod writes again without a restart, and everything acknowledged is there.
  rmSync(filler)
  const after = await pod.api('POST', '/memories', { label: 'public:after', content: 'the disk has room again' })
  expect(after.status).toBe(201)
  acked.push(after.body.id)
  for (const id of acked) expect((await pod.api('GET', `/memories/${id}`)).status).toBe(200)
  const healthy = await runCli(['doctor', '--json', '--home', home])
  const checks = JSON.parse(healthy.stdout).checks as { name: string; ok: boolean }[]
  expect(checks.find((c) => c.name === 'database')).toMatchObject({ ok: true })
  expect(checks.find((c) => c.name === 'disk')).toMatchObject({ ok: true })

  // And after a restart too.
  expect(await pod.stop()).toBe(0)
  pod = await spawn({ home })
  for (const id of acked) expect((await pod.api('GET', `/memories/${id}`)).status).toBe(200)
}, 120_000)
