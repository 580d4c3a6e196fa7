/**
 * Validation of what callers hand the store. The HTTP layer may reuse `labelSchema` and
 * `contentSchema` to answer before reaching the store; the store checks again either way.
 */
import * as v from 'valibot'
import { BadInput, TooLarge } from '../lib/errors'
import { LABEL_MAX_CHARS } from '../protocol'
import { PEER_LABEL_PREFIX } from './gate'

export { LABEL_MAX_CHARS }

export const labelSchema = v.pipe(
  v.string('label must be a string'),
  v.minLength(1, 'label is empty'),
  v.maxLength(LABEL_MAX_CHARS, `label is longer than ${LABEL_MAX_CHARS} characters`),
  v.regex(/^\P{Cc}*$/u, 'label contains control characters'),
  v.check(
    (l) => !l.startsWith(PEER_LABEL_PREFIX),
    `labels starting with "${PEER_LABEL_PREFIX}" are reserved for copies pulled from peers; choose another label`,
  ),
)

/** Content of 1..maxBytes UTF-8 bytes. */
export const contentSchema = (maxBytes: number) =>
  v.pipe(
    v.string('content must be a string'),
    v.minLength(1, 'content is empty'),
    v.maxBytes(maxBytes, `content is larger than ${maxBytes} bytes (UTF-8); split it into several memories`),
  )

/** Throws BadInput naming every problem with the label. */
export function checkLabel(label: unknown): string {
  const r = v.safeParse(labelSchema, label)
  if (r.success) return r.output
  const issues = r.issues.map((i) => i.message)
  throw new BadInput(`invalid label: ${issues.join('; ')}`, issues)
}

/** Throws BadInput for missing/empty content and TooLarge (with the limit) for oversized content. */
export function checkContent(content: unknown, maxBytes: number): string {
  if (typeof content !== 'string') throw new BadInput('content must be a string')
  if (content.length === 0) throw new BadInput('content is empty')
  const bytes = Buffer.byteLength(content, 'utf8')
  if (bytes > maxBytes) {
    throw new TooLarge(`content is ${bytes} bytes, over the limit of ${maxBytes} bytes (UTF-8); split it into several memories`)
  }
  return content
}

/** list()/changesSince() cursors are a change sequence number written as a decimal string. */
export function parseSeqCursor(cursor: string, what: string): number {
  if (!/^(0|[1-9]\d{0,15})$/.test(cursor)) throw new BadInput(`invalid ${what} "${cursor.slice(0, 40)}": pass back a cursor the pod returned`)
  const n = Number(cursor)
  if (!Number.isSafeInteger(n)) throw new BadInput(`invalid ${what}: out of range`)
  return n
}

/** Integer in [min, max], else BadInput. */
export function checkInt(value: number, min: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new BadInput(`${what} must be an integer from ${min} to ${max}`)
  return value
}
