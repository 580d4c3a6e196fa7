/**
 * `mazemaker backup`: one file holding a consistent snapshot of pod.db (taken while the pod
 * runs, with VACUUM INTO) and the home's key and config files, as a gzipped tar encrypted with
 * age under a passphrase (scrypt recipient). A manifest with each file's size and SHA-256 goes
 * first, so restore checks sizes before it writes anything and can prove it got every byte. The
 * output is created 0600 and appears atomically.
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { open, unlink, rename } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { homePaths } from '../identity'
import { loadPodConfig } from '../config'
import { BadInput, PodError } from '../lib/errors'
import { fsyncDir } from '../lib/atomic-file'
import { snapshotDatabase } from '../store'
import { DB_ENTRY, homeKeyFiles, MANIFEST_ENTRY } from './home-files'
import { tarEnd, tarHeader, tarPadding } from './tar'

export const BACKUP_FORMAT = 'mazemaker-backup'
export const BACKUP_VERSION = 1
export const MIN_PASSPHRASE_CHARS = 10
/**
 * log2 of scrypt's N for every file mazemaker seals under a passphrase (backup and export):
 * 2^18, age's own default, about a second and 256 MiB per derivation. Set explicitly so it
 * stays ours if the library's default moves; restore and import refuse a file asking for more
 * (src/backup/age-header.ts), since its maker, not us, chose what we would spend on it.
 */
export const SCRYPT_WORK_FACTOR = 18
const READ_CHUNK = 1024 * 1024

export interface Manifest {
  format: typeof BACKUP_FORMAT
  version: number
  pod_id: string
  created_at: string
  files: { name: string; size: number; sha256: string }[]
}

export interface BackupResult {
  file: string
  pod_id: string
  bytes: number
  files: string[]
}

export function checkPassphrase(passphrase: string): string {
  if (passphrase.length < MIN_PASSPHRASE_CHARS) {
    throw new BadInput(`the backup passphrase must be at least ${MIN_PASSPHRASE_CHARS} characters (a few random words are best)`)
  }
  return passphrase
}

/** Size and SHA-256 of a file, read in chunks. */
async function digest(path: string): Promise<{ size: number; sha256: string }> {
  const fh = await open(path, 'r')
  try {
    const hash = createHash('sha256')
    let size = 0
    const buf = new Uint8Array(READ_CHUNK)
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, size)
      if (bytesRead === 0) break
      hash.update(buf.subarray(0, bytesRead))
      size += bytesRead
    }
    return { size, sha256: hash.digest('hex') }
  } finally {
    await fh.close()
  }
}

/**
 * Tar stream of the manifest, then `files` (name → absolute path of a copy nobody changes). The
 * manifest goes first so that restore knows every entry's size before it writes a byte of any
 * (and can refuse an archive that would not fit, or that lies about a size). Each file is hashed
 * again as it is streamed and must match what the manifest says.
 */
function tarStream(files: [string, string][], podId: string, now: Date, onBytes?: (read: number) => void): ReadableStream<Uint8Array> {
  async function* generate(): AsyncGenerator<Uint8Array> {
    const manifest: Manifest = { format: BACKUP_FORMAT, version: BACKUP_VERSION, pod_id: podId, created_at: now.toISOString(), files: [] }
    for (const [name, path] of files) manifest.files.push({ name, ...(await digest(path)) })
    const mtime = now.getTime() / 1000
    const text = new TextEncoder().encode(JSON.stringify(manifest, null, 2) + '\n')
    yield tarHeader({ name: MANIFEST_ENTRY, size: text.length, mode: 0o600, mtimeSeconds: mtime })
    yield text
    yield tarPadding(text.length)
    for (const [i, [name, path]] of files.entries()) {
      const { size, sha256 } = manifest.files[i]!
      const fh = await open(path, 'r')
      try {
        yield tarHeader({ name, size, mode: 0o600, mtimeSeconds: mtime })
        const hash = createHash('sha256')
        let done = 0
        while (done < size) {
          const buf = new Uint8Array(Math.min(READ_CHUNK, size - done))
          const { bytesRead } = await fh.read(buf, 0, buf.length, done)
          if (bytesRead === 0) throw new PodError('backup_failed', `${path} shrank while it was being read`)
          const chunk = buf.subarray(0, bytesRead)
          hash.update(chunk)
          done += bytesRead
          onBytes?.(bytesRead)
          yield chunk
        }
        if (hash.digest('hex') !== sha256) throw new PodError('backup_failed', `${path} changed while it was being read`)
        yield tarPadding(size)
      } finally {
        await fh.close()
      }
    }
    yield tarEnd()
  }
  const it = generate()
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await it.next()
      if (done) controller.close()
      else controller.enqueue(value)
    },
    async cancel() {
      await it.return(undefined)
    },
  })
}

/** Streams `data` into `path` through a 0600 temp file beside it, fsynced and renamed into place. */
async function writeStreamAtomic(path: string, data: ReadableStream<Uint8Array>): Promise<number> {
  const dir = dirname(path)
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  const fh = await open(tmp, 'wx', 0o600)
  let bytes = 0
  try {
    for await (const chunk of data) {
      await fh.write(chunk)
      bytes += chunk.length
    }
    await fh.sync()
  } catch (err) {
    await fh.close()
    await unlink(tmp).catch(() => undefined)
    throw err
  }
  await fh.close()
  await rename(tmp, path)
  fsyncDir(dir)
  return bytes
}

export interface BackupOptions {
  home: string
  out: string
  passphrase: string
  now?: Date
  /**
   * Tests only: log2 of scrypt's N for this archive (SCRYPT_WORK_FACTOR when absent). Restore
   * reads the factor from the file, so tests that only need *an* archive pass a small one instead
   * of spending a second of CPU per key derivation. Deliberately not reachable from the CLI, an
   * environment variable or pod.toml: an operator's backups are always made at full strength.
   */
  scryptWorkFactor?: number
  /** Told as the files are read: bytes so far and in all (the CLI shows progress). */
  onProgress?(done: number, total: number): void
}

export async function createBackup(opts: BackupOptions): Promise<BackupResult> {
  const paths = homePaths(resolve(opts.home))
  if (!statSafe(paths.podToml) || !statSafe(paths.db)) {
    throw new PodError('no_pod', `no pod at ${paths.root} (no pod.toml or pod.db); check --home`)
  }
  const out = resolve(opts.out)
  if (statSafe(out)?.isDirectory()) throw new BadInput(`${out} is a directory; give a file name such as ${join(out, 'pod-backup.age')}`)
  if (!statSafe(dirname(out))?.isDirectory()) throw new BadInput(`no directory ${dirname(out)} to write the backup into; create it first`)
  const podId = loadPodConfig(paths.podToml).pod_id
  // age (and the post-quantum curves it carries) loads here, not at every command's start.
  const { Encrypter } = await import('age-encryption')
  const encrypter = new Encrypter()
  encrypter.setPassphrase(checkPassphrase(opts.passphrase))
  encrypter.setScryptWorkFactor(opts.scryptWorkFactor ?? SCRYPT_WORK_FACTOR)
  // The snapshot lands inside the home (0700), never in a shared temp directory.
  const staging = mkdtempSync(join(paths.root, '.backup-'))
  try {
    const snapshot = join(staging, DB_ENTRY)
    snapshotDatabase(paths.db, snapshot)
    // Key files are small and written atomically: copied once, after the snapshot, so a peer
    // paired meanwhile is in the backup with its key (a copy without its rows is harmless).
    const keyFiles = homeKeyFiles(paths.root).map((name): [string, string] => {
      const copy = join(staging, name.replaceAll('/', '__'))
      writeCopy(join(paths.root, name), copy)
      return [name, copy]
    })
    const files: [string, string][] = [...keyFiles, [DB_ENTRY, snapshot]]
    const total = files.reduce((sum, [, path]) => sum + (statSafe(path)?.size ?? 0), 0)
    let read = 0
    const onBytes = opts.onProgress && ((n: number) => opts.onProgress!((read += n), total))
    const stream = tarStream(files, podId, opts.now ?? new Date(), onBytes).pipeThrough(gzip())
    const bytes = await writeStreamAtomic(out, await encrypter.encrypt(stream)).catch((err) => {
      const code = (err as NodeJS.ErrnoException).code
      if (code) throw new PodError('backup_failed', `cannot write ${out} (${code}); check the directory's permissions and free space`, { cause: err })
      throw err
    })
    return { file: out, pod_id: podId, bytes, files: [...keyFiles.map(([n]) => n), DB_ENTRY] }
  } finally {
    rmSync(staging, { recursive: true, force: true })
  }
}

/** The platform's gzip (typed as the byte stream it is). */
export function gzip(): TransformStream<Uint8Array, Uint8Array> {
  return new CompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>
}

function writeCopy(from: string, to: string): void {
  writeFileSync(to, readFileSync(from), { mode: 0o600, flag: 'wx' })
}

function statSafe(path: string) {
  try {
    return statSync(path)
  } catch {
    return null
  }
}
