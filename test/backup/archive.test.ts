/** The backup archive: tar round trip, and a hostile archive that names paths outside the home. */
import { afterEach, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Decrypter, Encrypter } from 'age-encryption'
import { createBackup, restoreBackup } from '../../src/backup'
import { gzip } from '../../src/backup/backup'
import { isBackupEntry } from '../../src/backup/home-files'
import { readTar, tarEnd, tarHeader, tarPadding } from '../../src/backup/tar'
import { inProcessPod } from '../helpers/in-process-pod'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function tarOf(files: Record<string, string>): Uint8Array {
  const parts: Uint8Array[] = []
  for (const [name, text] of Object.entries(files)) {
    const data = new TextEncoder().encode(text)
    parts.push(tarHeader({ name, size: data.length, mode: 0o600, mtimeSeconds: 0 }), data, tarPadding(data.length))
  }
  parts.push(tarEnd())
  return Buffer.concat(parts)
}

/** Feeds `bytes` in awkward chunk sizes, so headers and data straddle chunk edges. */
function chunked(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let off = 0
  return new ReadableStream({
    pull(c) {
      if (off >= bytes.length) return c.close()
      c.enqueue(bytes.subarray(off, (off += size)))
    },
  })
}

test.each([1, 7, 511, 513, 4096])('readTar reads back what tarHeader wrote (chunks of %i bytes)', async (size) => {
  const files = { 'pod.toml': 'pod_id = "x"\n', 'pod.db': 'z'.repeat(1500), 'vault.key': '' }
  const got: Record<string, string> = {}
  await readTar(chunked(tarOf(files), size), (e) => {
    const parts: Uint8Array[] = []
    return { write: (c) => void parts.push(c.slice()), end: () => void (got[e.name] = Buffer.concat(parts).toString()) }
  })
  expect(got).toEqual(files)
})

test('a damaged header or a truncated archive is an error', async () => {
  const bytes = tarOf({ 'pod.toml': 'x' })
  const bad = Uint8Array.from(bytes)
  bad[10] = bad[10]! ^ 1
  const sink = () => ({ write() {}, end() {} })
  await expect(readTar(chunked(bad, 512), sink)).rejects.toThrow('checksum')
  await expect(readTar(chunked(bytes.subarray(0, 512), 512), sink)).rejects.toThrow('in the middle of a file')
})

test.each(['../escape', '/etc/passwd', 'peer-keys/peers/../../x.key', 'pod.lock', 'peer-keys/peers/not-a-uuid.key', 'pod.db-wal'])(
  'isBackupEntry refuses %s',
  (name) => {
    expect(isBackupEntry(name)).toBe(false)
  },
)

test('restore refuses an archive holding a path outside the allow-list and writes nothing anywhere', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mzm-evil-'))
  dirs.push(dir)
  const enc = new Encrypter()
  enc.setScryptWorkFactor(10) // the test's own archive; restore accepts any factor up to ours (test/backup/age-header.test.ts)
  enc.setPassphrase('evil archive passphrase')
  const plain = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(tarOf({ 'pod.toml': 'x', '../escaped.txt': 'gotcha' }))
      c.close()
    },
  })
  const sealed = await enc.encrypt(plain.pipeThrough(gzip()))
  const file = join(dir, 'evil.age')
  writeFileSync(file, Buffer.from(await new Response(sealed).arrayBuffer()))
  const home = join(dir, 'home')
  await expect(restoreBackup({ file, home, passphrase: 'evil archive passphrase' })).rejects.toThrow('unexpected entry "../escaped.txt"')
  expect(existsSync(join(dir, 'escaped.txt'))).toBe(false)
  expect(readdirSync(dir)).toEqual(['evil.age'])
})

test('a backup whose manifest comes last (as backups were first made) is read once for its manifest, then restored whole', async () => {
  const pod = await inProcessPod()
  await pod.pod.store.rememberGrouped({ label: 'public:kept', content: 'restored from an old backup' })
  await pod.pod.close() // the home stays, for the backup
  const dir = mkdtempSync(join(tmpdir(), 'mzm-old-backup-'))
  dirs.push(dir, pod.home)
  const pass = 'old backups still restore'
  const current = join(dir, 'current.age')
  await createBackup({ home: pod.home, out: current, passphrase: pass, scryptWorkFactor: 10 })

  // Re-pack it with the manifest last.
  const d = new Decrypter()
  d.addPassphrase(pass)
  const plain = (await d.decrypt(readFileSync(current))) as Uint8Array
  const tar = new Uint8Array(
    await new Response(new Blob([plain as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'))).arrayBuffer(),
  )
  const entries: [string, Uint8Array][] = []
  await readTar(chunked(tar, 4096), (e) => {
    const parts: Uint8Array[] = []
    return { write: (c) => void parts.push(c.slice()), end: () => void entries.push([e.name, Buffer.concat(parts)]) }
  })
  expect(entries[0]![0]).toBe('mazemaker-backup.json') // what backup writes now
  const reordered = [...entries.slice(1), entries[0]!]
  const parts: Uint8Array[] = []
  for (const [name, data] of reordered) parts.push(tarHeader({ name, size: data.length, mode: 0o600, mtimeSeconds: 0 }), data, tarPadding(data.length))
  parts.push(tarEnd())
  const gz = new Uint8Array(await new Response(chunked(Buffer.concat(parts), 65536).pipeThrough(gzip())).arrayBuffer())
  const e = new Encrypter()
  e.setScryptWorkFactor(10)
  e.setPassphrase(pass)
  const old = join(dir, 'old.age')
  writeFileSync(old, await e.encrypt(gz))

  const restored = await restoreBackup({ file: old, home: join(dir, 'home'), passphrase: pass })
  expect(restored.files.sort()).toEqual(
    entries
      .map(([n]) => n)
      .filter((n) => n !== 'mazemaker-backup.json')
      .sort(),
  )
  const again = await inProcessPod({ home: join(dir, 'home') })
  expect(again.pod.store.list({ prefix: 'public:' }).memories.map((m) => m.content)).toEqual(['restored from an old backup'])
  await again.close()
}, 60_000)
