/**
 * Pod ids: lowercase UUIDs (8-4-4-4-12 hex). A peer id is checked wherever it enters
 * (handshake URLs, routes, file names, TOML) so it can never become a path like `../../etc`.
 */
import { BadInput } from '../lib/errors'
import { UUID_RE as POD_ID_RE } from '../protocol'

export { SHORT_ID_CHARS, shortId } from '../protocol'
import { quote } from '../lib/text-checks'
import type { PodId } from './types'

export function isPodId(text: unknown): text is PodId {
  return typeof text === 'string' && POD_ID_RE.test(text)
}

/** Trims, then requires a lowercase UUID. Throws BadInput naming the bad value. */
export function parsePodId(text: string): PodId {
  const trimmed = text.trim()
  if (isPodId(trimmed)) return trimmed
  const hint = POD_ID_RE.test(trimmed.toLowerCase()) ? ' (use lowercase)' : ''
  throw new BadInput(`peer id must be a lowercase UUID, got ${quote(trimmed)}${hint}`)
}

/** A new random pod id (UUID v4). */
export function newPodId(): PodId {
  return crypto.randomUUID() as PodId
}
