/**
 * `mazemaker restore <file> --home DIR`: recreates a pod from a backup with the same identity
 * (keys, vault key, admin token, peers), so its peers keep pulling without pairing again.
 * Only an absent or empty target is accepted. Nothing is written before the manifest is read:
 * every entry must be listed there with the size its tar header declares, and all of them
 * together must fit on the target's filesystem (a hostile archive's gzip bomb is refused, not
 * staged). Files are written into a staging directory beside the target, checked against the
 * manifest (SHA-256) and renamed into place together, so a failed restore leaves nothing that
 * looks like a home.
 */
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, mkdirSync, readdirSync, rmdirSync, rmSync, statfsSync, statSync } from 'node:fs'
import { open, rename, type FileHandle } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { Readable } from 'node:stream'
import { loadPodConfig } from '../config'
import { BadInput, Conflict, PodError } from '../lib/errors'
import { fsyncDir } from '../lib/atomic-file'
import { checkAgeHeader, peekHead } from './age-header'
import { BACKUP_FORMAT, BACKUP_VERSION, type Manifest } from './backup'
import { DB_ENTRY, isBackupEntry, MANIFEST_ENTRY } from './home-files'
import { readTar, type TarSink } from './tar'

const MAX_MANIFEST_BYTES = 1024 * 1024
/** Key, token and config files are tiny; only pod.db may be large. */
const MAX_KEY_FILE_BYTES = 1024 * 1024
/** What a restore leaves free on the target's filesystem at least. */
const FREE_MARGIN_BYTES = 1024 * 1024

export interface RestoreResult {
  home: string
  pod_id: string
  files: string[]
}

/** Passes the stream through, telling `onProgress` the bytes read so far of the file's size. */
function countBytes(file: string, onProgress: (done: number, total: number) => void): TransformStream<Uint8Array, Uint8Array> {
  let total = 0
  try {
    total = statSync(file).size
  } catch {
    // the read itself reports a missing file
  }
  let done = 0
  return new TransformStream({
    transform(chunk, controller) {
      done += chunk.length
      onProgress(done, total)
      controller.enqueue(chunk)
    },
  })
}

function targetState(home: string): 'absent' | 'empty' {
  let st
  try {
    st = statSync(home)
  } catch {
    return 'absent'
  }
  if (!st.isDirectory()) throw new Conflict(`${home} exists and is not a directory; restore into a new directory`)
  if (readdirSync(home).length > 0) throw new Conflict(`${home} is not empty; restore into a new or empty directory (a restore never overwrites a home)`)
  return 'empty'
}

export interface RestoreOptions {
  file: string
  home: string
  passphrase: string
  /** Told as the backup file is read: bytes so far and in all (the CLI shows progress). */
  onProgress?(done: number, total: number): void
}

export async function restoreBackup(opts: RestoreOptions): Promise<RestoreResult> {
  const home = resolve(opts.home)
  const state = targetState(home)
  // A backup made before the manifest went first: a pass that writes nothing reads the manifest
  // (and every entry's size) before the pass that writes.
  let known: Manifest | null = null
  const plain = await openArchive(opts)
  mkdirSync(dirname(home), { recursive: true, mode: 0o700 })
  const free = freeBytes(dirname(home))
  const staging = `${home}.restoring-${randomBytes(6).toString('hex')}`
  mkdirSync(staging, { mode: 0o700 })
  try {
    const room = { free, target: dirname(home) }
    let written = await extract(plain, staging, known, room)
    if (written === 'manifest_last') {
      known = await readManifestOnly(await openArchive(opts), room)
      written = await extract(await openArchive(opts), staging, known, room)
      if (written === 'manifest_last') throw new PodError('bad_backup', 'the backup changed while it was being restored')
    }
    const manifest = checkManifest(known ?? written.manifest, written.files)
    const podId = loadPodConfig(join(staging, 'pod.toml')).pod_id
    if (podId !== manifest.pod_id) throw new PodError('bad_backup', `pod.toml names pod ${podId} but the manifest names ${manifest.pod_id}`)
    if (state === 'empty') rmdirSync(home) // still empty: checked above, and we never wrote there
    await rename(staging, home)
    fsyncDir(dirname(home))
    return { home, pod_id: podId, files: [...written.files.keys()] }
  } catch (err) {
    rmSync(staging, { recursive: true, force: true })
    throw err
  }
}

/** The backup's plain tar stream: age header checked before any key is derived, then decrypted and gunzipped. */
async function openArchive(opts: RestoreOptions): Promise<ReadableStream<Uint8Array>> {
  // Before any directory is made or key derived: the file, not us, chose its scrypt cost.
  const raw = Readable.toWeb(createReadStream(resolve(opts.file))) as unknown as ReadableStream<Uint8Array>
  const sealed = await peekHead(opts.onProgress ? raw.pipeThrough(countBytes(resolve(opts.file), opts.onProgress)) : raw).catch((err) => {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new BadInput(`no backup file at ${resolve(opts.file)}`)
    throw new PodError('bad_backup', `cannot read ${opts.file} (${code ?? String(err)}); check the path and its permissions`, { cause: err })
  })
  try {
    checkAgeHeader(sealed.head, { name: opts.file, remedy: 'make the backup again with `mazemaker backup`' })
  } catch (err) {
    await sealed.stream.cancel()
    throw err
  }
  const { Decrypter } = await import('age-encryption') // loaded when used, not at start
  const decrypter = new Decrypter()
  decrypter.addPassphrase(opts.passphrase)
  let plain: ReadableStream<Uint8Array>
  try {
    plain = await decrypter.decrypt(sealed.stream)
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err)
    throw new PodError('bad_backup', `cannot open ${opts.file}: wrong passphrase, or not a mazemaker backup (${msg})`, { cause: err })
  }
  return plain.pipeThrough(new DecompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>)
}

interface Room {
  /** Bytes free for us on the target's filesystem. */
  free: number
  /** The directory the restore writes into (named in refusals). */
  target: string
}

/** Free bytes for an unprivileged writer on the filesystem holding `dir`. */
function freeBytes(dir: string): number {
  const fs = statfsSync(dir)
  return fs.bavail * fs.bsize
}

/**
 * Writes the archive's files into `staging`, never one byte before its size is known from the
 * manifest: the manifest must come first (unless `known` was read by an earlier pass), list the
 * entry with exactly the size its tar header declares, and all files together must fit. Returns
 * 'manifest_last' (nothing written) for an archive whose first entry is not the manifest.
 */
async function extract(
  plain: ReadableStream<Uint8Array>,
  staging: string,
  known: Manifest | null,
  room: Room,
): Promise<{ manifest: string; files: Map<string, { size: number; sha256: string }> } | 'manifest_last'> {
  const written = new Map<string, { size: number; sha256: string }>()
  let manifest = known
  let manifestText = ''
  let manifestLast = false
  await readTar(plain, async (entry): Promise<TarSink> => {
    if (!isBackupEntry(entry.name) || written.has(entry.name)) {
      throw new PodError('bad_backup', `the backup holds an unexpected entry "${entry.name.slice(0, 120)}"; refusing to restore it`)
    }
    if (entry.name === MANIFEST_ENTRY) {
      if (entry.size > MAX_MANIFEST_BYTES) throw new PodError('bad_backup', 'the backup manifest is too large')
      const parts: Uint8Array[] = []
      return {
        write: (c) => void parts.push(c.slice()),
        end() {
          manifestText = Buffer.concat(parts).toString('utf8')
          if (!known) manifest = checkRoom(parseManifest(manifestText), room)
        },
      }
    }
    if (!manifest) {
      manifestLast = true
      throw MANIFEST_LAST
    }
    checkEntrySize(manifest, entry)
    const path = join(staging, entry.name)
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
    const fh: FileHandle = await open(path, 'wx', 0o600)
    const hash = createHash('sha256')
    let size = 0
    return {
      async write(chunk) {
        hash.update(chunk)
        size += chunk.length
        await fh.write(chunk)
      },
      async end() {
        await fh.sync()
        await fh.close()
        written.set(entry.name, { size, sha256: hash.digest('hex') })
      },
    }
  }).catch((err) => {
    if (manifestLast) return
    if (err instanceof PodError) throw err
    throw new PodError('bad_backup', `the backup is damaged: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  })
  if (manifestLast) return 'manifest_last'
  return { manifest: manifestText, files: written }
}

const MANIFEST_LAST = new Error('the manifest is not the first entry')

/**
 * A pass over an archive whose manifest comes last that writes nothing: each entry's declared
 * size is counted (refused as soon as they no longer fit) and the manifest is read and checked.
 */
async function readManifestOnly(plain: ReadableStream<Uint8Array>, room: Room): Promise<Manifest> {
  const sizes = new Map<string, number>()
  let declared = 0
  let text = ''
  await readTar(plain, (entry): TarSink => {
    if (!isBackupEntry(entry.name) || sizes.has(entry.name)) {
      throw new PodError('bad_backup', `the backup holds an unexpected entry "${entry.name.slice(0, 120)}"; refusing to restore it`)
    }
    sizes.set(entry.name, entry.size)
    if (entry.name !== MANIFEST_ENTRY) {
      declared += entry.size
      if (declared > room.free) throw noRoom(declared, room)
      return { write() {}, end() {} }
    }
    if (entry.size > MAX_MANIFEST_BYTES) throw new PodError('bad_backup', 'the backup manifest is too large')
    const parts: Uint8Array[] = []
    return { write: (c) => void parts.push(c.slice()), end: () => void (text = Buffer.concat(parts).toString('utf8')) }
  }).catch((err) => {
    if (err instanceof PodError) throw err
    throw new PodError('bad_backup', `the backup is damaged: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  })
  const manifest = checkRoom(parseManifest(text), room)
  for (const [name, size] of sizes) if (name !== MANIFEST_ENTRY) checkEntrySize(manifest, { name, size })
  return manifest
}

/** The manifest's own shape: format, version, and a listing of known files with sizes. */
function parseManifest(text: string): Manifest {
  if (!text) throw new PodError('bad_backup', 'the backup has no manifest (truncated or not a mazemaker backup)')
  let m: Manifest
  try {
    m = JSON.parse(text) as Manifest
  } catch {
    throw new PodError('bad_backup', 'the backup manifest is not JSON')
  }
  if (m?.format !== BACKUP_FORMAT) throw new PodError('bad_backup', 'not a mazemaker backup')
  if (m.version !== BACKUP_VERSION)
    throw new PodError('bad_backup', `backup format v${m.version} is not known to this mazemaker (v${BACKUP_VERSION}); use a newer mazemaker`)
  const ok = Array.isArray(m.files) && m.files.every((f) => isBackupEntry(f?.name) && f.name !== MANIFEST_ENTRY && Number.isSafeInteger(f.size) && f.size >= 0)
  if (!ok) throw new PodError('bad_backup', 'the backup manifest does not list its files with sizes')
  for (const f of m.files) {
    if (f.name !== DB_ENTRY && f.size > MAX_KEY_FILE_BYTES)
      throw new PodError('bad_backup', `the backup manifest gives ${f.name} ${f.size} bytes; such a file is never that large`)
  }
  return m
}

/** All files the manifest lists must fit on the target's filesystem, with room to spare. */
function checkRoom(m: Manifest, room: Room): Manifest {
  const need = m.files.reduce((n, f) => n + f.size, 0)
  if (need + FREE_MARGIN_BYTES > room.free) throw noRoom(need, room)
  return m
}

function noRoom(need: number, room: Room): PodError {
  return new PodError(
    'no_space',
    `the backup's files take ${mib(need)} but ${room.target} has ${mib(room.free)} free (nothing was written); free some space or restore elsewhere`,
  )
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`
}

/** An entry is written only with exactly the size the manifest gives it. */
function checkEntrySize(m: Manifest, entry: { name: string; size: number }): void {
  const listed = m.files.find((f) => f.name === entry.name)
  if (!listed) throw new PodError('bad_backup', `${entry.name} is in the backup but not in its manifest`)
  if (listed.size !== entry.size) {
    throw new PodError('bad_backup', `${entry.name} is ${entry.size} bytes in the backup but ${listed.size} in its manifest; refusing to restore it`)
  }
}

function checkManifest(text: Manifest | string, written: Map<string, { size: number; sha256: string }>): Manifest {
  const m = typeof text === 'string' ? parseManifest(text) : text
  const listed = new Set(m.files.map((f) => f.name))
  for (const f of m.files) {
    const got = written.get(f.name)
    if (!got || got.size !== f.size || got.sha256 !== f.sha256) throw new PodError('bad_backup', `${f.name} in the backup does not match its checksum`)
  }
  for (const name of written.keys()) if (!listed.has(name)) throw new PodError('bad_backup', `${name} is in the backup but not in its manifest`)
  for (const required of ['pod.toml', 'peer-keys/self.key', 'vault.key', 'pod.db']) {
    if (!written.has(required)) throw new PodError('bad_backup', `the backup lacks ${required}`)
  }
  return m
}
