/** base64url without padding, the encoding of every key, token and MAC on the wire. */
export function toBase64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url')
}

/** Strict decode: only the base64url alphabet, no padding. Returns null on anything else. */
export function fromBase64url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null
  return new Uint8Array(Buffer.from(text, 'base64url'))
}
