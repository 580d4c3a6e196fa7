/**
 * UUID v7 (RFC 9562 §5.7) where the runtime has none built in: 48-bit Unix milliseconds, the
 * version, a 12-bit counter in rand_a (RFC 9562 §6.2 method 1) so ids made in one millisecond
 * sort in creation order, the variant, and 62 random bits from Web Crypto.
 */

/** The counter starts at a random 11-bit value: unguessable, with ≥ 2048 steps left before it wraps. */
const SEED_MASK = 0x7ff
const COUNTER_MAX = 0xfff
const MAX_MS = 2 ** 48 - 1

/**
 * A generator with its own counter. `random` fills a buffer (tests pass a fixed one).
 * Past 4096 ids in one millisecond the counter is reseeded: the ids stay unique (62 random bits)
 * but lose their order inside that millisecond, rather than carrying a time that was never read.
 */
export function createUuidv7(random: (buf: Uint8Array) => void = (buf) => crypto.getRandomValues(buf)): (nowMs?: number) => string {
  let lastMs = -1
  let counter = 0
  return function uuidv7(nowMs = Date.now()): string {
    const ms = Math.min(Math.max(Math.floor(nowMs), 0), MAX_MS)
    const bytes = new Uint8Array(16)
    random(bytes)
    if (ms === lastMs && counter < COUNTER_MAX) counter++
    else counter = ((bytes[6]! << 8) | bytes[7]!) & SEED_MASK
    lastMs = ms
    bytes[6] = 0x70 | (counter >> 8)
    bytes[7] = counter & 0xff
    bytes[8] = 0x80 | (bytes[8]! & 0x3f)
    const hex = ms.toString(16).padStart(12, '0') + Array.from(bytes.subarray(6), (b) => b.toString(16).padStart(2, '0')).join('')
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
  }
}
