/**
 * The lines of an import's input, read as a stream (never the whole file in memory) and as often
 * as the import reads them: once to check every line before anything is written, once to
 * import. A file is opened again each time; standard input is first copied to a private
 * temporary file (0600, removed at the end); an age-encrypted export, binary or armored, is
 * decrypted as it is read (the passphrase asked and its key derived once for both reads).
 */
import { closeSync, createReadStream, createWriteStream, mkdtempSync, openSync, readSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { finished } from 'node:stream/promises'
import { AGE_MAGIC, checkAgeHeader, peekHead } from '../backup/age-header'
import { PodError } from '../lib/errors'
import { backupPassphrase } from './prompt-secret'

const ARMOR_BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----'
const ARMOR_END = '-----END AGE ENCRYPTED FILE-----'

export interface ImportSource {
  /** The input's text lines, numbered from 1; a fresh read each call. */
  lines(): AsyncGenerator<{ n: number; text: string }>
  /** Removes what opening it made (standard input's copy). */
  close(): void
}

/** The file's bytes as Node reads them: iterated directly, a third of the CPU of a web stream over it (measured). */
const fileChunks = (path: string): AsyncIterable<Uint8Array> => createReadStream(path)
/** The same as a web stream, for the age decrypter. */
const fileStream = (path: string) => Readable.toWeb(createReadStream(path)) as unknown as ReadableStream<Uint8Array>

/** Lines of a byte stream, decoded as UTF-8 chunk by chunk. */
export async function* splitLines(bytes: AsyncIterable<Uint8Array>): AsyncGenerator<{ n: number; text: string }> {
  const decoder = new TextDecoder()
  let rest = ''
  let n = 0
  for await (const chunk of bytes) {
    const text = rest + decoder.decode(chunk, { stream: true })
    let from = 0
    for (let nl = text.indexOf('\n', from); nl !== -1; nl = text.indexOf('\n', from)) {
      yield { n: ++n, text: text.slice(from, nl) }
      from = nl + 1
    }
    rest = text.slice(from)
  }
  rest += decoder.decode()
  if (rest !== '') yield { n: ++n, text: rest }
}

/**
 * The raw bytes inside an armored age file, decoded as they are read: base64 lines of 64
 * characters (the last one shorter) between the markers, as age writes them.
 */
async function* dearmor(text: AsyncIterable<{ n: number; text: string }>): AsyncGenerator<Uint8Array> {
  let state: 'before' | 'body' | 'last' | 'after' = 'before'
  let pending = ''
  const bad = (why: string) => new PodError('bad_backup', `the export is not valid armored age (${why}); export it again with \`mazemaker export\``)
  for await (const { text: raw } of text) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    if (state === 'before') {
      if (line.trim() === '') continue
      if (line !== ARMOR_BEGIN) throw bad('invalid header')
      state = 'body'
    } else if (line === ARMOR_END && state !== 'after') {
      state = 'after'
    } else if (state === 'body') {
      if (line.length > 64 || !/^[A-Za-z0-9+/]*={0,2}$/.test(line)) throw bad('invalid base64 line')
      if (line.length < 64) state = 'last' // only the last line may be short
      pending += line
      // Whole 4-character groups only, so every piece decodes on its own.
      if (pending.length >= 64 * 1024) {
        yield Buffer.from(pending, 'base64')
        pending = ''
      }
    } else if (line.trim() !== '') throw bad(state === 'last' ? 'a short line before the end' : 'data after the end marker')
  }
  if (state !== 'after') throw bad('no end marker')
  if (pending !== '') yield Buffer.from(pending, 'base64')
}

/** A web stream over an async generator of bytes (what the age decrypter reads). */
function streamOf(gen: AsyncGenerator<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      const { done, value } = await gen.next()
      if (done) c.close()
      else c.enqueue(value)
    },
    async cancel() {
      await gen.return(undefined)
    },
  })
}

/** Up to 64 bytes from the start of `path`. */
function headOf(path: string): string {
  const fd = openSync(path, 'r')
  try {
    const buf = Buffer.alloc(64)
    return buf.subarray(0, readSync(fd, buf, 0, 64, 0)).toString('latin1')
  } finally {
    closeSync(fd)
  }
}

async function spoolStdin(): Promise<{ path: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'mazemaker-import-')) // 0700
  const path = join(dir, 'stdin')
  const out = createWriteStream(path, { mode: 0o600 })
  try {
    for await (const chunk of process.stdin) if (!out.write(chunk)) await new Promise((r) => out.once('drain', r))
    out.end()
    await finished(out)
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
  return { path, dir }
}

/** Opens `file` ("-": standard input) for an import of JSON Lines, plain or age-encrypted. */
export async function openImportSource(file: string): Promise<ImportSource> {
  const spooled = file === '-' ? await spoolStdin() : null
  const path = spooled?.path ?? file
  const name = spooled ? 'the export on standard input' : file
  const close = () => {
    if (spooled) rmSync(spooled.dir, { recursive: true, force: true })
  }
  let head: string
  try {
    head = headOf(path)
  } catch (err) {
    close()
    throw new PodError('usage', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
  }
  const armored = head.trimStart().startsWith(ARMOR_BEGIN)
  if (!armored && !head.startsWith(AGE_MAGIC)) return { lines: () => splitLines(fileChunks(path)), close }

  const sealedStream = () => (armored ? streamOf(dearmor(splitLines(fileChunks(path)))) : fileStream(path))
  try {
    // Before asking for the passphrase or deriving a key: the file, not us, chose its scrypt cost.
    const peek = await peekHead(sealedStream())
    await peek.stream.cancel()
    checkAgeHeader(peek.head, { name, remedy: 're-export it with `mazemaker export`' })
  } catch (err) {
    close()
    throw err
  }
  const passphrase = await backupPassphrase(false)
  const { Decrypter } = await import('age-encryption') // loaded when used, not at start
  const fail = (err: unknown) =>
    err instanceof PodError
      ? err
      : new PodError('bad_backup', `cannot decrypt the export: wrong passphrase or a damaged file (${err instanceof Error ? err.message : err})`)
  // The file key, unwrapped once (scrypt: ~256 MiB and most of a second) and handed to each read;
  // every read still checks the header's MAC with it, so a file changed in between is refused.
  let fileKey: Promise<Uint8Array> | null = null
  const unwrap = async (): Promise<Uint8Array> => {
    const peek = await peekHead(sealedStream())
    await peek.stream.cancel()
    const header = headerOf(peek.head)
    const d = new Decrypter()
    d.addPassphrase(passphrase)
    return d.decryptHeader(header)
  }
  async function* lines() {
    let plain: ReadableStream<Uint8Array>
    try {
      fileKey ??= unwrap()
      const key = await fileKey
      const d = new Decrypter()
      d.addIdentity({ unwrapFileKey: () => key })
      plain = await d.decrypt(sealedStream())
    } catch (err) {
      throw fail(err)
    }
    try {
      yield* splitLines(plain)
    } catch (err) {
      throw fail(err)
    }
  }
  return { lines, close }
}

/** The header of a binary age file: its first bytes up to and including the MAC line ("--- …\n"). */
function headerOf(head: Uint8Array): Uint8Array {
  for (let at = 0; at < head.length; ) {
    const nl = head.indexOf(0x0a, at)
    if (nl === -1) break
    if (Buffer.from(head.subarray(at, at + 4)).toString('latin1') === '--- ') return head.subarray(0, nl + 1)
    at = nl + 1
  }
  throw new Error('the age header does not end')
}
