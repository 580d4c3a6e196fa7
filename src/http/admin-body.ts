/**
 * The admin routes' body, read whole before any handler runs: at most `maxBytes` (counted as it
 * arrives, chunked included) and within the edge's body deadline (10 s from the headers). The
 * handlers, the validators and the MCP transport then read the same bytes from memory. The
 * rendezvous reads its register and release bodies the same way, after their token.
 */
import type { MiddlewareHandler } from 'hono'
import { TooLarge } from '../lib/errors'
import { BodyTooLarge, readBody } from '../lib/read-body'
import { BodyTimeout, bodyTimeLeftMs } from './edge-guard'

export function readBodyFirst(
  maxBytes: number,
  tooLarge = (max: number) => `request body is over ${max} bytes (max_content_bytes in pod.toml sets it)`,
): MiddlewareHandler {
  return async function readAdminBody(c, next) {
    const raw = c.req.raw
    if (raw.headers.has('transfer-encoding') || Number(raw.headers.get('content-length') ?? 0) > 0) {
      let bytes: Uint8Array
      try {
        bytes = await readBody(raw, maxBytes, { what: 'request body', deadlineMs: bodyTimeLeftMs(c), onLate: () => new BodyTimeout() })
      } catch (err) {
        if (err instanceof BodyTooLarge) throw new TooLarge(tooLarge(maxBytes))
        throw err
      }
      c.req.raw = new Request(raw.url, { method: raw.method, headers: raw.headers, body: bytes as Uint8Array<ArrayBuffer>, signal: raw.signal })
    }
    await next()
  }
}
