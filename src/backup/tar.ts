/**
 * Just enough ustar for backups: regular files only, written and read as streams so a large
 * pod.db never sits in memory whole. The archive stays readable by any `tar` (after `age -d`
 * and `gunzip`), so an operator can always inspect a backup without us.
 */

const BLOCK = 512
const enc = new TextEncoder()

export interface TarEntry {
  name: string
  size: number
  mode: number
  mtimeSeconds: number
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0'
}

/** One 512-byte ustar header. Names are ours (≤ 100 bytes, ASCII), never an archive's. */
export function tarHeader(e: TarEntry): Uint8Array {
  const name = enc.encode(e.name)
  if (name.length > 100) throw new Error(`tar entry name too long: ${e.name}`)
  const h = new Uint8Array(BLOCK)
  const put = (offset: number, text: string) => h.set(enc.encode(text), offset)
  h.set(name, 0)
  put(100, octal(e.mode & 0o7777, 8))
  put(108, octal(0, 8))
  put(116, octal(0, 8))
  put(124, octal(e.size, 12))
  put(136, octal(Math.floor(e.mtimeSeconds), 12))
  put(148, '        ') // checksum field counts as spaces while summing
  put(156, '0')
  put(257, 'ustar\0')
  put(263, '00')
  let sum = 0
  for (const b of h) sum += b
  put(148, sum.toString(8).padStart(6, '0') + '\0 ')
  return h
}

/** Zero bytes that pad `size` up to a whole block. */
export function tarPadding(size: number): Uint8Array {
  return new Uint8Array((BLOCK - (size % BLOCK)) % BLOCK)
}

/** The two zero blocks that end an archive (a fresh buffer: a shared one could be written into). */
export function tarEnd(): Uint8Array {
  return new Uint8Array(BLOCK * 2)
}

function parseOctal(bytes: Uint8Array): number {
  const text = new TextDecoder()
    .decode(bytes)
    .replace(/[\0 ]+$/g, '')
    .trim()
  if (!/^[0-7]+$/.test(text)) throw new Error('damaged tar header (bad number)')
  return parseInt(text, 8)
}

export interface TarSink {
  write(chunk: Uint8Array): void | Promise<void>
  end(): void | Promise<void>
}

/**
 * Reads a tar stream, handing each regular file's bytes to the sink `open` returns for it.
 * Checks each header's checksum; anything but a regular file is refused.
 */
export async function readTar(stream: ReadableStream<Uint8Array>, open: (e: TarEntry) => TarSink | Promise<TarSink>): Promise<void> {
  const reader = stream.getReader()
  try {
    await readEntries(reader, open)
  } catch (err) {
    // A refused entry stops the whole pipe (file, decryption, gunzip), not just this reader.
    await reader.cancel().catch(() => undefined)
    throw err
  }
}

async function readEntries(reader: ReadableStreamDefaultReader<Uint8Array>, open: (e: TarEntry) => TarSink | Promise<TarSink>): Promise<void> {
  let buf: Uint8Array = new Uint8Array(0)
  let sink: TarSink | null = null
  let left = 0 // data bytes of the current entry still to come
  let pad = 0 // padding bytes after it
  let ended = false
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    buf = buf.length ? concat(buf, value) : value
    let off = 0
    for (;;) {
      if (sink) {
        const n = Math.min(left, buf.length - off)
        if (n > 0) await sink.write(buf.subarray(off, off + n))
        off += n
        left -= n
        if (left > 0) break
        await sink.end()
        sink = null
      }
      if (pad > 0) {
        const n = Math.min(pad, buf.length - off)
        off += n
        pad -= n
        if (pad > 0) break
      }
      if (ended || buf.length - off < BLOCK) break
      const h = buf.subarray(off, off + BLOCK)
      off += BLOCK
      if (h.every((b) => b === 0)) {
        ended = true
        break
      }
      const stored = parseOctal(h.subarray(148, 156))
      let sum = 0
      for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!
      if (sum !== stored) throw new Error('damaged tar header (checksum)')
      if (h[156] !== 0x30 && h[156] !== 0) throw new Error('archive holds something other than a regular file')
      const nameEnd = h.subarray(0, 100).indexOf(0)
      const entry: TarEntry = {
        name: new TextDecoder().decode(h.subarray(0, nameEnd < 0 ? 100 : nameEnd)),
        mode: parseOctal(h.subarray(100, 108)),
        size: parseOctal(h.subarray(124, 136)),
        mtimeSeconds: parseOctal(h.subarray(136, 148)),
      }
      sink = await open(entry)
      left = entry.size
      pad = (BLOCK - (entry.size % BLOCK)) % BLOCK
    }
    buf = buf.subarray(off)
  }
  if (sink || left > 0) throw new Error('archive ends in the middle of a file')
  if (!ended) throw new Error('archive is truncated (no end marker)')
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}
