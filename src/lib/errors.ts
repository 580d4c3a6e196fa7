/**
 * Typed errors. Code throws a PodError; the HTTP layer maps it once (src/http/errors.ts)
 * to `{ error: code, message }` with a status from one table. Codes come from ./codes.ts.
 */
import type { PodErrorCode } from './codes'

export class PodError extends Error {
  constructor(
    readonly code: PodErrorCode,
    message: string,
    opts?: { cause?: unknown },
  ) {
    super(message, opts)
    this.name = new.target.name
  }
}

/** Input that fails validation: 400. `issues` lists each problem with its dot path. */
export class BadInput extends PodError {
  constructor(
    message: string,
    readonly issues: string[] = [],
  ) {
    super('bad_input', message)
  }
}

export class NotFound extends PodError {
  constructor(message: string) {
    super('not_found', message)
  }
}

export class Conflict extends PodError {
  constructor(message: string) {
    super('conflict', message)
  }
}

/** `peer add` for an id we already pair with: 409 `peer_exists` (change it with `peer set`, or add with replace). */
export class PeerExists extends PodError {
  constructor(message: string) {
    super('peer_exists', message)
  }
}

export class TooLarge extends PodError {
  constructor(message: string) {
    super('too_large', message)
  }
}

/** Authentication failure: 401. */
export class AuthError extends PodError {
  constructor(
    override readonly code: 'unauthorized' | 'clock_skew' | 'replay' | 'bad_proof',
    message: string,
    opts?: { cause?: unknown },
  ) {
    super(code, message, opts)
  }
}

/** A file in the home directory that the pod refuses to use (wrong mode, length, content). */
export class HomeError extends PodError {
  constructor(message: string, opts?: { cause?: unknown }) {
    super('bad_home', message, opts)
  }
}

/** Sync-side failure talking to a peer (request_failed, unauthorized, bad_signature, http_<status>, …). */
export class PeerError extends PodError {}
