/**
 * base64url without padding, the encoding of every key, token and MAC on the wire. Where the
 * runtime has Uint8Array's own base64 (toBase64 / fromBase64) it is used: every /peer/sync
 * request and answer encodes or decodes a MAC, and a Buffer made for each cost a hub more than
 * the encoding. The results are the same bytes and text either way.
 */
type Base64Options = { alphabet: 'base64url'; omitPadding?: boolean; lastChunkHandling?: 'loose' }
const toNative = (Uint8Array.prototype as { toBase64?: (this: Uint8Array, o: Base64Options) => string }).toBase64
const fromNative = (Uint8Array as { fromBase64?: (text: string, o: Base64Options) => Uint8Array }).fromBase64
const ENCODE = { alphabet: 'base64url', omitPadding: true } as const
const DECODE = { alphabet: 'base64url', lastChunkHandling: 'loose' } as const
const ALPHABET = /^[A-Za-z0-9_-]*$/

export function toBase64url(bytes: Uint8Array): string {
  if (toNative) return toNative.call(bytes, ENCODE)
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
}

/** Strict decode: only the base64url alphabet, no padding. Returns null on anything else. */
export function fromBase64url(text: string): Uint8Array | null {
  if (!ALPHABET.test(text)) return null
  if (fromNative) {
    try {
      return fromNative(text, DECODE)
    } catch {
      // A length no base64 has (one character past a whole group): Buffer drops it, as before.
    }
  }
  return new Uint8Array(Buffer.from(text, 'base64url'))
}
