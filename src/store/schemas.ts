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

/** Earliest accepted original timestamp: no memory of this kind predates 2000. */
const TIMESTAMP_MIN_MS = Date.UTC(2000, 0, 1)
/** How far ahead of our clock an original timestamp may be (the exporting pod's clock may run fast). */
export const TIMESTAMP_SKEW_MS = 5 * 60_000

/** The YYYY-MM-DD at the start of an ISO timestamp names a day that exists. */
function isCalendarDate(s: string): boolean {
  const [y, m, d] = s.slice(0, 10).split('-').map(Number) as [number, number, number]
  const day = new Date(Date.UTC(y, m - 1, d))
  return day.getUTCFullYear() === y && day.getUTCMonth() === m - 1 && day.getUTCDate() === d
}

/**
 * An original created_at/updated_at handed in on import: an ISO 8601 timestamp naming a real
 * instant from 2000 up to a few minutes past `nowMs`. Output is normalised to toISOString() form,
 * the form the store writes itself, so stored timestamps keep sorting as strings.
 */
export const timestampSchema = (field: string, nowMs: number) =>
  v.pipe(
    v.string(`${field} must be a string`),
    v.isoTimestamp(`${field} must be an ISO 8601 timestamp such as 2024-05-01T12:00:00.000Z`),
    // Date() rolls 2021-02-30 over into March; a day that is not in its month is refused here.
    v.check(isCalendarDate, `${field} is not a real date`),
    v.transform((s) => new Date(s).getTime()),
    v.check((ms) => Number.isFinite(ms), `${field} is not a real date`),
    v.check((ms) => ms >= TIMESTAMP_MIN_MS, `${field} is before 2000`),
    v.check((ms) => ms <= nowMs + TIMESTAMP_SKEW_MS, `${field} is in the future`),
    v.transform((ms) => new Date(ms).toISOString()),
  )

/** toISOString() form with a four-digit year, the form every export writes. */
const STORED_FORM = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

/**
 * `raw` is already a timestamp as the store writes it, in range: what timestampSchema would accept
 * and hand back unchanged (a date that rolled over would not print back the same), without building
 * and running the schema, which was a sixth of an import's CPU.
 */
function isStoredForm(raw: unknown, nowMs: number): raw is string {
  if (typeof raw !== 'string' || !STORED_FORM.test(raw)) return false
  const ms = Date.parse(raw)
  return ms >= TIMESTAMP_MIN_MS && ms <= nowMs + TIMESTAMP_SKEW_MS && new Date(ms).toISOString() === raw
}

/**
 * The stored timestamps of a new memory: both now unless the caller hands originals (import).
 * updated_at defaults to created_at and may not precede it. Throws BadInput naming the field.
 */
export function checkTimestamps(input: { created_at?: unknown; updated_at?: unknown }, nowMs: number): { created_at: string; updated_at: string } {
  const one = (field: 'created_at' | 'updated_at'): string | undefined => {
    const raw = input[field]
    if (raw === undefined) return undefined
    if (isStoredForm(raw, nowMs)) return raw
    const r = v.safeParse(timestampSchema(field, nowMs), raw)
    if (r.success) return r.output
    const issues = r.issues.map((i) => i.message)
    throw new BadInput(`invalid ${field}: ${issues.join('; ')}`, issues)
  }
  const updatedIn = one('updated_at')
  const created_at = one('created_at') ?? (updatedIn !== undefined ? undefined : new Date(nowMs).toISOString())
  if (created_at === undefined) throw new BadInput('invalid updated_at: give created_at with it (updated_at alone would come before the creation time)')
  const updated_at = updatedIn ?? created_at
  if (updated_at < created_at) throw new BadInput(`invalid updated_at: ${updated_at} is before created_at ${created_at}`)
  return { created_at, updated_at }
}

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
