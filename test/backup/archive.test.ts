/** The backup archive: tar round trip, and a hostile archive that names paths outside the home. */
import { afterEach, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Encrypter } from 'age-encryption'
import { restoreBackup } from '../../src/backup'
import { gzip } from '../../src/backup/backup'
import { isBackupEntry } from '../../src/backup/home-files'
import { readTar, tarEnd, tarHeader, tarPadding } from '../../src/backup/tar'

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
