/**
 * The official MCP memory server's knowledge graph (`memory.jsonl`: lines of
 * `{"type":"entity","name","entityType","observations":[…]}` and
 * `{"type":"relation","from","to","relationType"}`) turned into memories: one per entity,
 * holding its observations and, as text, the relations it takes part in. Relations between
 * names that are not entities are kept together in `<prefix>relations`.
 */
import * as v from 'valibot'
import { LABEL_MAX_CHARS } from '../store'

const EntitySchema = v.object({
  type: v.literal('entity'),
  name: v.pipe(v.string(), v.minLength(1)),
  entityType: v.optional(v.string(), 'entity'),
  observations: v.optional(v.array(v.string()), []),
})
const RelationSchema = v.object({
  type: v.literal('relation'),
  from: v.pipe(v.string(), v.minLength(1)),
  to: v.pipe(v.string(), v.minLength(1)),
  relationType: v.pipe(v.string(), v.minLength(1)),
})
const LineSchema = v.variant('type', [EntitySchema, RelationSchema])

export const DEFAULT_KG_PREFIX = 'kg:'

export interface GraphMemories {
  memories: { label: string; content: string }[]
  entities: number
  relations: number
  errors: { line: number; message: string }[]
}

/** Label text without control characters, collapsed whitespace. */
const clean = (s: string) =>
  s
    .replace(/[\p{Cc}\p{Cf}]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim()

function labelFor(prefix: string, type: string, name: string, part: number): string {
  const suffix = part > 1 ? ` #${part}` : ''
  const base = `${prefix}${clean(type) || 'entity'}:${clean(name)}`
  return base.slice(0, LABEL_MAX_CHARS - suffix.length) + suffix
}

/**
 * Lines of text grouped into memories of at most `maxBytes` UTF-8 bytes each (a header line
 * repeated on every part); a single line longer than that is cut.
 */
function pack(header: string, lines: string[], maxBytes: number): string[] {
  const parts: string[] = []
  let current = header
  const bytes = (s: string) => Buffer.byteLength(s, 'utf8')
  for (let line of lines) {
    if (bytes(header) + 1 + bytes(line) > maxBytes)
      line =
        Buffer.from(line, 'utf8')
          .subarray(0, Math.max(0, maxBytes - bytes(header) - 4))
          .toString('utf8') + '…'
    if (bytes(current) + 1 + bytes(line) > maxBytes) {
      parts.push(current)
      current = header
    }
    current += '\n' + line
  }
  parts.push(current)
  return parts
}

export function graphToMemories(text: string, opts: { prefix: string; maxContentBytes: number }): GraphMemories {
  const entities = new Map<string, { type: string; observations: string[] }>()
  const relations: { from: string; to: string; relationType: string }[] = []
  const errors: GraphMemories['errors'] = []
  text.split('\n').forEach((raw, i) => {
    if (!raw.trim()) return
    let json: unknown
    try {
      json = JSON.parse(raw)
    } catch {
      errors.push({ line: i + 1, message: 'not JSON' })
      return
    }
    const r = v.safeParse(LineSchema, json)
    if (!r.success) {
      errors.push({ line: i + 1, message: `not an entity or relation (${v.summarize(r.issues).replace(/\n/g, '; ')})` })
      return
    }
    const e = r.output
    if (e.type === 'relation') relations.push(e)
    else {
      // The memory server merges observations of a repeated entity name; so do we.
      const seen = entities.get(e.name)
      if (seen) seen.observations.push(...e.observations)
      else entities.set(e.name, { type: e.entityType, observations: [...e.observations] })
    }
  })

  const memories: GraphMemories['memories'] = []
  const loose: string[] = []
  for (const r of relations) if (!entities.has(r.from) && !entities.has(r.to)) loose.push(`${r.from} —${r.relationType}→ ${r.to}`)
  for (const [name, e] of entities) {
    const lines = [...new Set(e.observations)].map((o) => `- ${o}`)
    const rel = relations.filter((r) => r.from === name || r.to === name).map((r) => `- ${r.from} —${r.relationType}→ ${r.to}`)
    if (rel.length) lines.push('Relations:', ...rel)
    if (lines.length === 0) lines.push('(no observations)')
    pack(`${name} (${e.type})`, lines, opts.maxContentBytes).forEach((content, i) => {
      memories.push({ label: labelFor(opts.prefix, e.type, name, i + 1), content })
    })
  }
  if (loose.length) {
    pack('Relations between names that are not entities', loose, opts.maxContentBytes).forEach((content, i) => {
      memories.push({ label: `${opts.prefix}relations${i ? ` #${i + 1}` : ''}`, content })
    })
  }
  return { memories, entities: entities.size, relations: relations.length, errors }
}
