/**
 * A hostile backup (handed over with its passphrase, or a damaged one) is a gzip bomb: its
 * `pod.db` entry declares 256 MiB of zeros, a few hundred KiB compressed. `mazemaker restore`
 * must check the manifest and the sizes before it writes anything large: into a home on a 32 MiB
 * filesystem it refuses up front, naming the space, rather than staging the bomb until the disk
 * is full (which is what a pod sharing that disk would then hit). Both archive layouts: manifest
 * last (as backups were first made) and manifest first with a size that lies.
 *
 * The archive is built from the documented format alone: age (scrypt) over a gzipped ustar whose
 * entries are the home's files and `mazemaker-backup.json` ({format, version, pod_id,
 * created_at, files: [{name, size, sha256}]}). Mounting the small tmpfs needs root; it is
 * unmounted after.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { createHash, randomUUID } from 'node:crypto'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Encrypter } from 'age-encryption'
import { runCli } from '../helpers/pod-process'

const PASS = 'a passphrase handed over with the file'
const BOMB_BYTES = 256 * 1024 * 1024
const TMPFS_BYTES = 32 * 1024 * 1024
let root: string
let small: string

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'mzm-bomb-'))
  small = join(root, 'small')
  mkdirSync(small)
  const mount = Bun.spawnSync(['mount', '-t', 'tmpfs', '-o', `size=${TMPFS_BYTES},mode=0700`, 'tmpfs', small])
  if (mount.exitCode !== 0) throw new Error(`mount tmpfs (needs root): ${mount.stderr}`)
})
afterAll(() => {
  Bun.spawnSync(['umount', small])
  rmSync(root, { recursive: true, force: true })
})

/** One ustar header block for a regular file. */
function header(name: string, size: number): Uint8Array {
  const h = new Uint8Array(512)
  const put = (offset: number, text: string) => h.set(new TextEncoder().encode(text), offset)
  const octal = (n: number, width: number) => n.toString(8).padStart(width - 1, '0') + '\0'
  put(0, name)
  put(100, octal(0o600, 8))
  put(108, octal(0, 8))
  put(116, octal(0, 8))
  put(124, octal(size, 12))
  put(136, octal(Math.floor(Date.now() / 1000), 12))
  put(148, '        ')
  put(156, '0')
  put(257, 'ustar\0')
  put(263, '00')
  let sum = 0
  for (const b of h) sum += b
  put(148, sum.toString(8).padStart(6, '0') + '\0 ')
  return h
}

const pad = (size: number) => new Uint8Array((512 - (size % 512)) % 512)

/** The files an honest home has (small ones), as name → bytes. */
function homeFiles(podId: string): [string, Uint8Array][] {
  const text = (s: string) => new TextEncoder().encode(s)
  return [
    ['pod.toml', text(`pod_id = "${podId}"\nname = "bomb"\n`)],
    ['vault.key', text(`${Buffer.alloc(32, 7).toString('base64url')}\n`)],
    ['peer-keys/self.key', text(`${Buffer.alloc(32, 9).toString('base64url')}\n`)],
  ]
}

/**
 * A gzipped tar, streamed: the small files, a pod.db entry of `BOMB_BYTES` zeros, and the
 * manifest first or last. `manifestDbSize` is the size the manifest claims for pod.db.
 */
function bombTar(manifestFirst: boolean, manifestDbSize: number): ReadableStream<Uint8Array> {
  const podId = randomUUID()
  const files = homeFiles(podId)
  const zeros = new Uint8Array(1024 * 1024)
  const manifest = new TextEncoder().encode(
    JSON.stringify({
      format: 'mazemaker-backup',
      version: 1,
      pod_id: podId,
      created_at: new Date().toISOString(),
      files: [
        ...files.map(([name, bytes]) => ({ name, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') })),
        { name: 'pod.db', size: manifestDbSize, sha256: '0'.repeat(64) },
      ],
    }),
  )
  async function* parts(): AsyncGenerator<Uint8Array> {
    const manifestEntry = [header('mazemaker-backup.json', manifest.length), manifest, pad(manifest.length)]
    if (manifestFirst) yield* manifestEntry
    for (const [name, bytes] of files) yield* [header(name, bytes.length), bytes, pad(bytes.length)]
    yield header('pod.db', BOMB_BYTES)
    for (let done = 0; done < BOMB_BYTES; done += zeros.length) yield zeros
    if (!manifestFirst) yield* manifestEntry
    yield new Uint8Array(1024)
  }
  const it = parts()
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      const { done, value } = await it.next()
      if (done) c.close()
      else c.enqueue(value)
    },
  }).pipeThrough(new CompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>)
}

async function sealed(stream: ReadableStream<Uint8Array>, file: string): Promise<void> {
  const e = new Encrypter()
  e.setScryptWorkFactor(10)
  e.setPassphrase(PASS)
  writeFileSync(file, new Uint8Array(await new Response(await e.encrypt(stream)).arrayBuffer()))
}

async function restoreInto(file: string, home: string) {
  return runCli(['restore', file, '--home', home], { MAZEMAKER_BACKUP_PASSPHRASE: PASS })
}

test('manifest last: a 256 MiB bomb is refused before anything is written to a 32 MiB filesystem', async () => {
  const file = join(root, 'last.age')
  await sealed(bombTar(false, BOMB_BYTES), file)
  const out = await restoreInto(file, join(small, 'home'))
  expect(out.code).toBe(1)
  expect(out.stderr).toContain('free')
  expect(out.stderr).not.toMatch(/ENOSPC|no space left/i)
  expect(readdirSync(small)).toEqual([])
}, 60_000)

test('manifest first, lying about pod.db (4 KiB): refused before the 256 MiB entry is written', async () => {
  const file = join(root, 'first.age')
  await sealed(bombTar(true, 4096), file)
  const out = await restoreInto(file, join(small, 'home'))
  expect(out.code).toBe(1)
  expect(out.stderr).toContain('manifest')
  expect(out.stderr).not.toMatch(/ENOSPC|no space left|checksum/i)
  expect(readdirSync(small)).toEqual([])
}, 60_000)
