/**
 * The protocol version of /peer/sync (contract Part 1c): a request names the version it wants in
 * Mzm-Protocol (absent: 2). One we do not speak is answered 400 `protocol_unsupported` with the
 * list we do, before the Bearer is checked and without reading the body, so a newer or older
 * puller learns what to retry with (or which side should upgrade) whoever it is. Every answer
 * of the route names the version it was made in.
 */
import type { MiddlewareHandler } from 'hono'
import { cancelQuietly } from '../lib/read-body'
import { PROTOCOL_HEADER, PROTOCOL_VERSION, requestedProtocol, SUPPORTED_PROTOCOLS } from '../protocol'

export function speaksProtocol(): MiddlewareHandler {
  return async function protocolVersion(c, next) {
    const asked = c.req.header(PROTOCOL_HEADER)
    const version = requestedProtocol(asked)
    if (version === null) {
      cancelQuietly(c.req.raw.body)
      const ours = SUPPORTED_PROTOCOLS.join(', ')
      return c.json(
        {
          error: 'protocol_unsupported',
          supported: SUPPORTED_PROTOCOLS,
          message: `this pod speaks protocol ${ours}; the request asked for ${JSON.stringify(asked ?? '')}: retry with one of those, or upgrade the older pod`,
        },
        400,
        { [PROTOCOL_HEADER]: String(PROTOCOL_VERSION) },
      )
    }
    await next()
    try {
      c.res.headers.set(PROTOCOL_HEADER, String(version))
    } catch {
      // an immutable answer (none today): it goes out without the header
    }
  }
}
