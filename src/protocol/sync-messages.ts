/**
 * The two JSON messages of POST /peer/sync (the plaintext inside the seal), one schema each:
 * the callee validates a request with SyncRequestSchema, the puller validates an answer with
 * SyncResponseSchema. the encode and decode helpers turn them into and out of the bytes that get sealed.
 */
import * as v from 'valibot'
import { BadInput } from '../lib/errors'
import { UUID_RE, UuidSchema } from './ids'
import { WireScopeSchema } from './scope'
import {
  CURSOR_MAX_CHARS,
  DEFAULT_SCOPE,
  PAGE_LIMIT_DEFAULT,
  PAGE_LIMIT_MAX,
  PAGE_LIMIT_MIN,
  SYNC_RESPONSE_MAX_BYTES,
  WAIT_DEFAULT_S,
  WAIT_MAX_S,
} from './wire'

/** `{"since": null | cursor, "scope": globs, "limit": 1..1000, "wait": 0..50}`; unknown keys refused. */
export const SyncRequestSchema = v.strictObject({
  since: v.nullable(v.pipe(v.string(), v.maxLength(CURSOR_MAX_CHARS))),
  scope: v.optional(WireScopeSchema, () => [...DEFAULT_SCOPE]),
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(PAGE_LIMIT_MIN), v.maxValue(PAGE_LIMIT_MAX)), PAGE_LIMIT_DEFAULT),
  wait: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(WAIT_MAX_S)), WAIT_DEFAULT_S),
})

/** A request as the callee acts on it (defaults filled in, scope always an array). */
export type SyncRequest = v.InferOutput<typeof SyncRequestSchema>
/** A request as a puller writes it (scope, limit and wait may be left to their defaults). */
export type SyncRequestInput = v.InferInput<typeof SyncRequestSchema>

const ISO_MAX_CHARS = 40
const IsoSchema = v.pipe(v.string(), v.maxLength(ISO_MAX_CHARS))
/** Longer than LABEL_MAX_CHARS on purpose: such a copy is dropped and counted by the store. */
const WIRE_LABEL_MAX_CHARS = 4096

/** A tombstone: the memory was served before and is gone (or no longer served). */
const WireTombstoneSchema = v.object({ id: UuidSchema, deleted: v.literal(true) })

/**
 * One memory of a page, or the tombstone of one that was served before. An entry with
 * `deleted: true` is a tombstone whatever else it carries. The memory shape is tried first because
 * nearly every entry is one: a union option that fails builds its issues, and trying the
 * tombstone first cost a failed parse per memory (a third of the page's validation). The guard
 * in front keeps the outcome exactly as with the tombstone first.
 */
export const WireEntrySchema = v.union([
  v.pipe(
    v.custom<unknown>((x) => typeof x === 'object' && x !== null && (x as { deleted?: unknown }).deleted !== true, 'a tombstone'),
    v.object({
      id: UuidSchema,
      // Longer than LABEL_MAX_CHARS on purpose: such a copy is dropped and counted by the store
      // (remote-copies.ts) instead of failing the page, so one bad memory blocks no other.
      label: v.pipe(v.string(), v.minLength(1), v.maxLength(WIRE_LABEL_MAX_CHARS)),
      // Likewise content over max_content_bytes is the store's to drop; only the response cap bounds it here.
      content: v.pipe(v.string(), v.minLength(1), v.maxLength(SYNC_RESPONSE_MAX_BYTES)),
      created_at: IsoSchema,
      updated_at: IsoSchema,
    }),
  ),
  WireTombstoneSchema,
])

export type WireEntry = v.InferOutput<typeof WireEntrySchema>

/** `{"pod_id", "cursor", "more", "memories": [...]}`: one page in change order. */
export const SyncResponseSchema = v.object({
  pod_id: UuidSchema,
  cursor: v.pipe(v.string(), v.minLength(1), v.maxLength(CURSOR_MAX_CHARS)),
  more: v.boolean(),
  memories: v.pipe(v.array(WireEntrySchema), v.maxLength(PAGE_LIMIT_MAX)),
})

export type SyncResponse = v.InferOutput<typeof SyncResponseSchema>

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/** The request's JSON bytes, exactly the fields the contract names (nothing else leaks in). */
export function encodeSyncRequest(req: SyncRequestInput): Uint8Array {
  const out: SyncRequestInput = { since: req.since }
  if (req.scope !== undefined) out.scope = req.scope
  if (req.limit !== undefined) out.limit = req.limit
  if (req.wait !== undefined) out.wait = req.wait
  return encoder.encode(JSON.stringify(out))
}

/** The callee's side: bytes → a valid request (frozen), else BadInput naming each problem (400). */
export function decodeSyncRequest(bytes: Uint8Array): SyncRequest {
  return requestOf(utf8(bytes, 'sync request'))
}

const REQUEST_MEMO_MAX = 256
const REQUEST_MEMO_MAX_CHARS = 1024

/**
 * decodeSyncRequest with a memo of requests already decoded, by their JSON text: its owner (a
 * pod's /peer/sync route) keeps one. The spokes one write wakes all re-ask with the same text (the
 * new cursor, their scope, limit and wait), so a hub parses and validates it once per distinct
 * text instead of once per spoke (the schema check was a third of opening a request). What a text
 * decodes to depends on the text alone, the kept requests are frozen (one object serves every
 * caller), and the memo is bounded: short texts only, cleared when full.
 */
export function memoizedRequestDecoder(): (bytes: Uint8Array) => SyncRequest {
  const memo = new Map<string, SyncRequest>()
  return (bytes) => {
    const text = utf8(bytes, 'sync request')
    const kept = memo.get(text)
    if (kept) return kept
    const req = requestOf(text)
    if (text.length <= REQUEST_MEMO_MAX_CHARS) {
      if (memo.size >= REQUEST_MEMO_MAX) memo.clear()
      memo.set(text, req)
    }
    return req
  }
}

/** A request's JSON text → the valid request, frozen (one object may serve every asker). */
function requestOf(text: string): SyncRequest {
  const req = validate(SyncRequestSchema, parseJson(text, 'sync request'), 'sync request')
  Object.freeze(req.scope)
  return Object.freeze(req)
}

/** The page's JSON bytes, exactly the fields the contract names. */
export function encodeSyncResponse(page: SyncResponse): Uint8Array {
  return encoder.encode(JSON.stringify({ pod_id: page.pod_id, cursor: page.cursor, more: page.more, memories: page.memories }))
}

/** The puller's side: bytes → a valid page, else BadInput naming the first problem. */
export function decodeSyncResponse(bytes: Uint8Array): SyncResponse {
  return decodeSyncResponseText(utf8(bytes, 'sync response'))
}

/** decodeSyncResponse of bytes already decoded as UTF-8 (a fetch thread did it, fatal on bad bytes). */
export function decodeSyncResponseText(text: string): SyncResponse {
  const json = parseJson(text, 'sync response')
  return checkedPage(json) ?? validate(SyncResponseSchema, json, 'sync response')
}

/** The UTF-8 text of `bytes`, or null where they are not UTF-8 (decodeSyncResponse then refuses them). */
export function utf8OrNull(bytes: Uint8Array): string | null {
  try {
    return decoder.decode(bytes)
  } catch {
    return null
  }
}

/**
 * What SyncResponseSchema returns for `json`, checked by hand, or null where the hand check does
 * not take the page: then the schema decides, and names the problem. The schema makes a dataset
 * per field of each of a page's thousand entries (1 ms of the puller's main thread a page under
 * Deno, while the store waits); this check only reads the fields and builds the same output
 * objects. It takes no page the schema refuses and returns exactly the schema's output
 * (test/protocol/checked-page.test.ts compares both on valid and broken pages).
 */
export function checkedPage(json: unknown): SyncResponse | null {
  if (typeof json !== 'object' || json === null) return null
  const page = json as Record<string, unknown>
  const { pod_id, cursor, more, memories } = page
  if (!isUuidString(pod_id) || typeof cursor !== 'string' || cursor.length < 1 || cursor.length > CURSOR_MAX_CHARS) return null
  if (typeof more !== 'boolean' || !Array.isArray(memories) || memories.length > PAGE_LIMIT_MAX) return null
  const out: WireEntry[] = new Array(memories.length)
  for (let i = 0; i < memories.length; i++) {
    const entry = checkedEntry(memories[i])
    if (entry === null) return null
    out[i] = entry
  }
  return { pod_id, cursor, more, memories: out }
}

/** WireEntrySchema by hand: a memory (any `deleted` but true is dropped), a tombstone, or null. */
function checkedEntry(x: unknown): WireEntry | null {
  if (typeof x !== 'object' || x === null) return null
  const e = x as Record<string, unknown>
  const { id } = e
  if (!isUuidString(id)) return null
  if (e.deleted === true) return { id, deleted: true }
  const { label, content, created_at, updated_at } = e
  if (typeof label !== 'string' || label.length < 1 || label.length > WIRE_LABEL_MAX_CHARS) return null
  if (typeof content !== 'string' || content.length < 1 || content.length > SYNC_RESPONSE_MAX_BYTES) return null
  if (typeof created_at !== 'string' || created_at.length > ISO_MAX_CHARS) return null
  if (typeof updated_at !== 'string' || updated_at.length > ISO_MAX_CHARS) return null
  return { id, label, content, created_at, updated_at }
}

const isUuidString = (x: unknown): x is string => typeof x === 'string' && UUID_RE.test(x)

function utf8(bytes: Uint8Array, what: string): string {
  try {
    return decoder.decode(bytes)
  } catch {
    throw notJson(what)
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw notJson(what)
  }
}

const notJson = (what: string) => new BadInput(`invalid ${what}: not UTF-8 JSON`)

function validate<S extends v.GenericSchema>(schema: S, json: unknown, what: string): v.InferOutput<S> {
  const r = v.safeParse(schema, json)
  if (r.success) return r.output
  const issues = r.issues.map((i) => {
    const path = v.getDotPath(i)
    return path ? `${path}: ${i.message}` : i.message
  })
  throw new BadInput(`invalid ${what}: ${issues.join('; ')}`, issues)
}
