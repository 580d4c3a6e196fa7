/**
 * The cost cap for passphrase-sealed age files we open (restore, import). An age file names its
 * scrypt work factor (log2 N) in its header, chosen by whoever made the file, and age-encryption
 * runs scrypt at any factor up to 20 (1 GiB of memory, seconds of CPU) — so a hostile file sent
 * to an operator could cost that per attempt. We read only the header (the first
 * AGE_HEADER_MAX bytes) before any key derivation and refuse a factor above the one we write.
 */
import { PodError } from '../lib/errors'
import { SCRYPT_WORK_FACTOR } from './backup'

export const AGE_MAGIC = 'age-encryption.org/v1\n'
/** Ours is ~150 bytes (one scrypt stanza); a header not ended by here is not ours. */
export const AGE_HEADER_MAX = 64 * 1024

/**
 * Throws `bad_backup` when `head` (a binary age file's first bytes) has a scrypt stanza asking
 * for more than SCRYPT_WORK_FACTOR, or a header longer than AGE_HEADER_MAX. Anything else
 * (not age, malformed stanzas, several stanzas beside a scrypt one) is left to age-encryption,
 * which refuses it before running scrypt. `name` is the file as the user gave it; `remedy` what
 * to do instead.
 */
export function checkAgeHeader(head: Uint8Array, opts: { name: string; remedy: string }): void {
  // latin1 keeps one character per byte; age itself refuses any non-ASCII header byte.
  const text = Buffer.from(head.buffer, head.byteOffset, Math.min(head.length, AGE_HEADER_MAX)).toString('latin1')
  if (!text.startsWith(AGE_MAGIC)) return
  const lines = text.split('\n')
  const complete = lines.slice(1, -1) // the last piece has no newline yet: possibly cut off
  for (const line of complete) {
    if (line.startsWith('---')) return // the MAC line: the header ends here
    // Every line age reads as a stanza starts so (a body line is base64, never "-> "); reading
    // any such line as one can only see more stanzas than age does, never fewer.
    if (!line.startsWith('-> ')) continue
    const [type, , factor] = line.slice(3).split(' ')
    if (type !== 'scrypt' || factor === undefined || !/^\d+$/.test(factor)) continue
    const logN = Number(factor)
    if (logN > SCRYPT_WORK_FACTOR) {
      throw new PodError(
        'bad_backup',
        `${opts.name} asks for scrypt work factor ${factor.length > 6 ? `${factor.slice(0, 6)}…` : factor}, more than mazemaker ever writes ` +
          `(${SCRYPT_WORK_FACTOR}): refusing to spend ${scryptMemory(logN)} of memory on it; ${opts.remedy}`,
      )
    }
  }
  if (head.length >= AGE_HEADER_MAX) {
    throw new PodError('bad_backup', `${opts.name} has an age header longer than ${AGE_HEADER_MAX / 1024} KiB: not a file mazemaker wrote; ${opts.remedy}`)
  }
  // A shorter file whose header never ends is truncated: age says so without deriving anything.
}

/** scrypt (r = 8) holds 128·r·N bytes: 2^(logN + 10). */
function scryptMemory(logN: number): string {
  if (logN >= 20 + 40) return 'an absurd amount'
  return logN >= 20 ? `~${2 ** (logN - 20)} GiB` : `~${2 ** (logN - 10)} MiB`
}

/**
 * Reads from `input` until AGE_HEADER_MAX bytes (or its end) are in hand, and returns them with
 * a stream that replays them followed by the rest: the header checked is the header decrypted,
 * and pipes work as well as files.
 */
export async function peekHead(input: ReadableStream<Uint8Array>): Promise<{ head: Uint8Array; stream: ReadableStream<Uint8Array> }> {
  const reader = input.getReader()
  const seen: Uint8Array[] = []
  let size = 0
  while (size < AGE_HEADER_MAX) {
    const { done, value } = await reader.read()
    if (done) break
    seen.push(value)
    size += value.length
  }
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      for (const chunk of seen) c.enqueue(chunk)
    },
    async pull(c) {
      const { done, value } = await reader.read()
      if (done) c.close()
      else c.enqueue(value)
    },
    cancel: (reason) => reader.cancel(reason),
  })
  const head = Buffer.concat(seen)
  return { head: head.subarray(0, Math.min(head.length, AGE_HEADER_MAX)), stream }
}
