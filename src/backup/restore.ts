/**
 * `mazemaker restore <file> --home DIR`: recreates a pod from a backup with the same identity
 * (keys, vault key, admin token, peers), so its peers keep pulling without pairing again.
 * Only an absent or empty target is accepted. Files are written into a staging directory beside
 * the target, checked against the manifest (names, sizes, SHA-256) and renamed into place
 * together, so a failed restore leaves nothing that looks like a home.
 */
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, mkdirSync, readdirSync, rmdirSync, rmSync, statSync } from 'node:fs'
import { open, rename, type FileHandle } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { Readable } from 'node:stream'
import { loadPodConfig } from '../config'
import { BadInput, Conflict, PodError } from '../lib/errors'
import { fsyncDir } from '../lib/atomic-file'
import { checkAgeHeader, peekHead } from './age-header'
import { BACKUP_FORMAT, BACKUP_VERSION, type Manifest } from './backup'
import { isBackupEntry, MANIFEST_ENTRY } from './home-files'
import { readTar, type TarSink } from './tar'

const MAX_MANIFEST_BYTES = 1024 * 1024

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
  mkdirSync(dirname(home), { recursive: true, mode: 0o700 })
  const staging = `${home}.restoring-${randomBytes(6).toString('hex')}`
  mkdirSync(staging, { mode: 0o700 })
  try {
    const written = new Map<string, { size: number; sha256: string }>()
    let manifestText = ''
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
    const gunzip = new DecompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>
    await readTar(plain.pipeThrough(gunzip), async (entry): Promise<TarSink> => {
      if (!isBackupEntry(entry.name) || written.has(entry.name)) {
        throw new PodError('bad_backup', `the backup holds an unexpected entry "${entry.name.slice(0, 120)}"; refusing to restore it`)
      }
      if (entry.name === MANIFEST_ENTRY) {
        if (entry.size > MAX_MANIFEST_BYTES) throw new PodError('bad_backup', 'the backup manifest is too large')
        const parts: Uint8Array[] = []
        return {
          write: (c) => void parts.push(c.slice()),
          end: () => void (manifestText = Buffer.concat(parts).toString('utf8')),
        }
      }
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
      if (err instanceof PodError) throw err
      throw new PodError('bad_backup', `the backup is damaged: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
    })

    const manifest = checkManifest(manifestText, written)
    const podId = loadPodConfig(join(staging, 'pod.toml')).pod_id
    if (podId !== manifest.pod_id) throw new PodError('bad_backup', `pod.toml names pod ${podId} but the manifest names ${manifest.pod_id}`)
    if (state === 'empty') rmdirSync(home) // still empty: checked above, and we never wrote there
    await rename(staging, home)
    fsyncDir(dirname(home))
    return { home, pod_id: podId, files: [...written.keys()] }
  } catch (err) {
    rmSync(staging, { recursive: true, force: true })
    throw err
  }
}

function checkManifest(text: string, written: Map<string, { size: number; sha256: string }>): Manifest {
  if (!text) throw new PodError('bad_backup', 'the backup has no manifest (truncated or not a mazemaker backup)')
  let m: Manifest
  try {
    m = JSON.parse(text) as Manifest
  } catch {
    throw new PodError('bad_backup', 'the backup manifest is not JSON')
  }
  if (m.format !== BACKUP_FORMAT) throw new PodError('bad_backup', 'not a mazemaker backup')
  if (m.version !== BACKUP_VERSION)
    throw new PodError('bad_backup', `backup format v${m.version} is not known to this mazemaker (v${BACKUP_VERSION}); use a newer mazemaker`)
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
