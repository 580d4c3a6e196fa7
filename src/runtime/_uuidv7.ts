/**
 * UUID v7 (RFC 9562 §5.7) where the runtime has none built in: 48-bit Unix milliseconds, the
 * version, a 12-bit counter in rand_a (RFC 9562 §6.2 method 1) so ids made in one millisecond
 * sort in creation order, the variant, and 62 random bits from Web Crypto.
 */

/** The counter starts at a random 11-bit value: unguessable, with ≥ 2048 steps left before it wraps. */
const SEED_MASK = 0x7ff
const COUNTER_MAX = 0xfff
const MAX_MS = 2 ** 48 - 1
/** Random bytes are drawn for this many ids at a time: one call into the runtime's CSPRNG, not one per id. */
const IDS_PER_DRAW = 256
/** Two hex digits of each byte value (a lookup, not a toString(16) and padStart per byte). */
const HEX: readonly string[] = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'))

/**
 * A generator with its own counter. `random` fills a buffer (tests pass a fixed one).
 * Past 4096 ids in one millisecond the counter is reseeded: the ids stay unique (62 random bits)
 * but lose their order inside that millisecond, rather than carrying a time that was never read.
 */
export function createUuidv7(random: (buf: Uint8Array) => void = (buf) => crypto.getRandomValues(buf)): (nowMs?: number) => string {
  let lastMs = -1
  let counter = 0
  // "tttttttt-tttt-": the millisecond's hex, made once per millisecond (a pull stamps thousands of
  // copies with one clock reading; Number#toString(16) was most of an id's cost under Deno).
  let msPrefix = ''
  // Unused random bytes of the last draw; each id takes the next 16 and never reuses them.
  const pool = new Uint8Array(16 * IDS_PER_DRAW)
  let next = pool.length
  return function uuidv7(nowMs = Date.now()): string {
    const ms = Math.min(Math.max(Math.floor(nowMs), 0), MAX_MS)
    if (next === pool.length) {
      random(pool)
      next = 0
    }
    const b = pool.subarray(next, next + 16)
    next += 16
    if (ms === lastMs && counter < COUNTER_MAX) counter++
    else counter = ((b[6]! << 8) | b[7]!) & SEED_MASK
    if (ms !== lastMs) {
      const t = ms.toString(16).padStart(12, '0')
      msPrefix = `${t.slice(0, 8)}-${t.slice(8, 12)}-`
      lastMs = ms
    }
    return `${msPrefix}${HEX[0x70 | (counter >> 8)]}${HEX[counter & 0xff]}-${HEX[0x80 | (b[8]! & 0x3f)]}${HEX[b[9]!]}-${HEX[b[10]!]}${HEX[b[11]!]}${HEX[b[12]!]}${HEX[b[13]!]}${HEX[b[14]!]}${HEX[b[15]!]}`
  }
}
