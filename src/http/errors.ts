/**
 * The one error mapper, shared by the pod and the rendezvous: PodError → `{ error: code, message,
 * issues? }` with a status from one table; HTTPException passes through; anything else is logged
 * and answered 500 `internal`.
 */
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { ErrorCode, PodErrorCode } from '../lib/codes'
import { BadInput, PodError } from '../lib/errors'
import type { Logger } from '../lib/log'

const STATUS_BY_CODE: Partial<Record<ErrorCode, ContentfulStatusCode>> = {
  bad_input: 400,
  protocol_unsupported: 400,
  unauthorized: 401,
  clock_skew: 401,
  replay: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  peer_exists: 409,
  stale: 409,
  body_timeout: 408,
  too_large: 413,
  sealed_required: 415,
  bad_seal: 400,
  rate_limited: 429,
  bad_home: 500,
  // A write refused for lack of space (src/lib/disk-space.ts): WebDAV's Insufficient Storage.
  disk_full: 507,
  // The rendezvous's own refusals (src/rendezvous/app.ts).
  bad_proof: 401,
  too_many_ids: 429,
  full: 503,
  bad_headers: 409,
}

export function errorBody(code: PodErrorCode, message: string, issues?: string[]) {
  return issues && issues.length > 0 ? { error: code, message, issues } : { error: code, message }
}

/** An error's answer: a JSON body and its status, or a Response to pass through as it is. */
export type ErrorAnswer = { status: ContentfulStatusCode; body: ReturnType<typeof errorBody> } | Response

/**
 * `service` names whose log an internal error points to ("pod", "rendezvous"); `translate` may turn
 * an error that is not one of ours into one (a full disk into DiskFull). `path` is only logged.
 */
export function createErrorAnswer(log: Logger, service = 'pod', translate: (err: Error) => unknown = (err) => err) {
  return function answerError(thrown: Error, path: string): ErrorAnswer {
    // e.g. a raw ENOSPC from a file write, as the typed error it stands for.
    const err = translate(thrown) as Error
    if (err instanceof PodError) {
      const status = STATUS_BY_CODE[err.code as ErrorCode] ?? 500
      const issues = err instanceof BadInput ? err.issues : undefined
      return { status, body: errorBody(err.code, err.message, issues) }
    }
    if (err instanceof HTTPException) {
      if (err.status === 413) return { status: 413, body: errorBody('too_large', 'request body is too large') }
      const res = err.getResponse()
      if (res.headers.get('content-type')?.includes('json')) return res
      return { status: err.status, body: errorBody(codeForStatus(err.status), err.message || res.statusText) }
    }
    log.error({ op: 'http', err: 'internal', path, msg: err.message })
    return { status: 500, body: errorBody('internal', `internal error; see the ${service} log`) }
  }
}

/**
 * The one error mapper as Hono's onError (createErrorAnswer's arguments).
 * @example app.onError(createErrorHandler(log, 'rendezvous'))
 */
export function createErrorHandler(log: Logger, service = 'pod', translate: (err: Error) => unknown = (err) => err) {
  return onErrorWith(createErrorAnswer(log, service, translate))
}

/** Hono's onError answering with `answerError` (from createErrorAnswer). */
export function onErrorWith(answerError: (thrown: Error, path: string) => ErrorAnswer) {
  return function onError(thrown: Error, c: Context): Response {
    const answer = answerError(thrown, c.req.path)
    return answer instanceof Response ? answer : c.json(answer.body, answer.status)
  }
}

/** An answer outside Hono: JSON as c.json writes it. */
export function jsonResponse(body: unknown, status: number, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } })
}

/** An ErrorAnswer as a Response, outside Hono. */
export function errorResponse(answer: ErrorAnswer): Response {
  return answer instanceof Response ? answer : jsonResponse(answer.body, answer.status)
}

function codeForStatus(status: number): ErrorCode {
  for (const [code, s] of Object.entries(STATUS_BY_CODE)) if (s === status) return code as ErrorCode
  return `http_${status}`
}

export function notFound(c: Context): Response {
  return c.json(errorBody('not_found', `no route ${c.req.method} ${c.req.path}`), 404)
}
