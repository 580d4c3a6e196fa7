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

/** A request's refusal: 400 `protocol_unsupported` with the versions we speak. */
export interface ProtocolRefusal {
  status: 400
  body: { error: 'protocol_unsupported'; supported: readonly number[]; message: string }
  headers: Record<string, string>
}

/** The version `req` asked for, or its refusal (the body is then released unread). */
export function protocolOf(req: Request): number | ProtocolRefusal {
  const asked = req.headers.get(PROTOCOL_HEADER) ?? undefined
  const version = requestedProtocol(asked)
  if (version !== null) return version
  cancelQuietly(req.body)
  const ours = SUPPORTED_PROTOCOLS.join(', ')
  return {
    status: 400,
    body: {
      error: 'protocol_unsupported',
      supported: SUPPORTED_PROTOCOLS,
      message: `this pod speaks protocol ${ours}; the request asked for ${JSON.stringify(asked ?? '')}: retry with one of those, or upgrade the older pod`,
    },
    headers: { [PROTOCOL_HEADER]: String(PROTOCOL_VERSION) },
  }
}

/** `res` naming the version it was made in. */
export function withProtocol(res: Response, version: number): Response {
  try {
    res.headers.set(PROTOCOL_HEADER, String(version))
  } catch {
    // an immutable answer (none today): it goes out without the header
  }
  return res
}

export function speaksProtocol(): MiddlewareHandler {
  return async function protocolVersion(c, next) {
    const version = protocolOf(c.req.raw)
    if (typeof version !== 'number') return c.json(version.body, version.status, version.headers)
    await next()
    withProtocol(c.res, version)
  }
}
