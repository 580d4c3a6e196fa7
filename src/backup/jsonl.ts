/**
 * Memories as JSON Lines, one memory per line: `{"label","content","created_at","updated_at",
 * "private"}` (plus the exporting pod's `id`, for reference only). Import validates each line on
 * its own, so one bad line is reported with its number and the rest still come in.
 */
import * as v from 'valibot'

export interface ExportLine {
  id: string
  label: string
  content: string
  private: boolean
  created_at: string
  updated_at: string
}

/** What an import accepts per line: label and content required; created_at/updated_at kept when given. */
export const ImportLineSchema = v.looseObject({
  label: v.pipe(v.string('label must be a string'), v.minLength(1, 'label is empty')),
  content: v.pipe(v.string('content must be a string'), v.minLength(1, 'content is empty')),
  created_at: v.optional(v.string('created_at must be a string')),
  updated_at: v.optional(v.string('updated_at must be a string')),
  private: v.optional(v.boolean('private must be true or false')),
})

export type ImportLine = v.InferOutput<typeof ImportLineSchema>

export function toJsonl(lines: ExportLine[]): string {
  return lines.map((l) => JSON.stringify(l)).join('\n') + (lines.length ? '\n' : '')
}

export interface ParsedLine {
  line: number
  label: string
  content: string
  created_at?: string
  updated_at?: string
  private?: boolean
}

/**
 * ImportLineSchema's check by hand, for the line that passes it (nearly every line of an export):
 * valibot's took twice as long as the JSON.parse before it, on both of the import's reads of the
 * file. Null for anything else, which the schema then checks and names (tests compare the two).
 */
export function checkedLine(json: unknown): Pick<ImportLine, 'label' | 'content' | 'created_at' | 'updated_at' | 'private'> | null {
  if (typeof json !== 'object' || json === null) return null
  const { label, content, created_at, updated_at, private: priv } = json as Record<string, unknown>
  if (typeof label !== 'string' || label.length === 0 || typeof content !== 'string' || content.length === 0) return null
  if ((created_at !== undefined && typeof created_at !== 'string') || (updated_at !== undefined && typeof updated_at !== 'string')) return null
  if (priv !== undefined && typeof priv !== 'boolean') return null
  return { label, content, created_at, updated_at, private: priv }
}

/** One line parsed and checked: a memory, a problem, or null for a blank line. Never throws. */
export function parseJsonlLine(raw: string, line: number): ParsedLine | { line: number; message: string } | null {
  if (!raw.trim()) return null
  let json: unknown
  try {
    json = JSON.parse(raw)
  } catch {
    return { line, message: 'not JSON' }
  }
  let ok = checkedLine(json)
  if (!ok) {
    const r = v.safeParse(ImportLineSchema, json)
    if (!r.success) return { line, message: v.summarize(r.issues).replace(/\n/g, '; ') }
    ok = r.output
  }
  const { label, content, created_at, updated_at, private: priv } = ok
  // Times pass through as given; the pod validates them and reports a bad one per memory.
  return {
    line,
    label,
    content,
    ...(created_at !== undefined ? { created_at } : {}),
    ...(updated_at !== undefined ? { updated_at } : {}),
    ...(priv !== undefined ? { private: priv } : {}),
  }
}
