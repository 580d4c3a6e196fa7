/**
 * Edge validation: JSON bodies and query strings go through valibot, and failures become a
 * BadInput (400) whose message names the dot path of every problem.
 */
import * as v from 'valibot'
import type { Context } from 'hono'
import { BadInput } from '../lib/errors'

export function parseWith<S extends v.GenericSchema>(schema: S, value: unknown, what: string): v.InferOutput<S> {
  const r = v.safeParse(schema, value)
  if (r.success) return r.output
  const issues = r.issues.map((i) => {
    const path = v.getDotPath(i)
    return path ? `${path}: ${i.message}` : i.message
  })
  throw new BadInput(`invalid ${what}: ${issues.join('; ')}`, issues)
}

/** Reads and validates a JSON body; the content type is checked first (Hono would quietly yield {}). */
export async function readJson<S extends v.GenericSchema>(c: Context, schema: S): Promise<v.InferOutput<S>> {
  const type = c.req.header('content-type') ?? ''
  if (!type.startsWith('application/json')) throw new BadInput('expected an application/json body')
  let raw: unknown
  try {
    raw = await c.req.json()
  } catch {
    throw new BadInput('body is not valid JSON')
  }
  return parseWith(schema, raw, 'body')
}

export function readQuery<S extends v.GenericSchema>(c: Context, schema: S): v.InferOutput<S> {
  return parseWith(schema, c.req.query(), 'query')
}

/** `"20"` → 20 within bounds, for query strings. */
export const intString = (min: number, max: number) =>
  v.pipe(v.string(), v.regex(/^\d{1,9}$/, 'must be an integer'), v.transform(Number), v.minValue(min), v.maxValue(max))
