/**
 * Edge validation in the route chain: JSON bodies, query strings and path parameters go through
 * valibot as hono validators, so handlers get typed values (`c.req.valid('json')`) and the app's
 * type (src/http/app.ts `AppType`) carries every route's input for the CLI's `hc` client. A
 * failure is a BadInput (400) whose message names the dot path of every problem.
 */
import type { Env, MiddlewareHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { validator } from 'hono/validator'
import * as v from 'valibot'
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

/**
 * The JSON body, validated. The content type is checked first: hono's json target quietly yields
 * `{}` without it, which a schema of optional fields would accept. `parse` replaces the default
 * parse and message (parseWith) where a route words its problems itself (the rendezvous).
 */
export function jsonBody<S extends v.GenericSchema>(schema: S, opts: { optional?: boolean; parse?: (value: unknown) => v.InferOutput<S> } = {}) {
  const parse = opts.parse ?? ((value: unknown) => parseWith(schema, value, 'body'))
  const inner = validator('json', (value, c): v.InferOutput<S> => {
    // `optional`: a request with no body at all is validated as `{}`.
    const empty = (c.req.header('content-length') ?? '0') === '0' && !c.req.header('transfer-encoding')
    if (opts.optional && empty) return parse({})
    if (!(c.req.header('content-type') ?? '').startsWith('application/json')) throw new BadInput('expected an application/json body')
    return parse(value)
  })
  // hono answers malformed JSON with its own 400 before our function runs; say it our way.
  const wrapped: MiddlewareHandler = async function validateJson(c, next) {
    let reached = false
    try {
      return (await inner(c, async () => {
        reached = true
        await next()
      })) as Response | undefined
    } catch (err) {
      if (!reached && err instanceof HTTPException && err.status === 400) throw new BadInput('body is not valid JSON')
      throw err
    }
  }
  return wrapped as MiddlewareHandler<Env, string, Typed<'json', S>>
}

/** What a validator adds to a route's type: the schema's input for clients, its output for the handler. */
type Typed<T extends string, S extends v.GenericSchema> = { in: { [K in T]: v.InferInput<S> }; out: { [K in T]: v.InferOutput<S> } }

/** The query string (one value per key, as `c.req.query()` gives it), validated. */
export function query<S extends v.GenericSchema>(schema: S) {
  // Typed by the schema's input (strings), not hono's guess from its output (`limit?: number`).
  return validator('query', (_value, c): v.InferOutput<S> => parseWith(schema, c.req.query(), 'query')) as MiddlewareHandler<Env, string, Typed<'query', S>>
}

/** One path parameter, validated; `what` names it in the message ("invalid memory id: …"). */
export function param<K extends string, S extends v.GenericSchema>(name: K, schema: S, what: string) {
  return validator('param', (value: Record<string, string>) => ({ [name]: parseWith(schema, value[name], what) }) as Record<K, v.InferOutput<S>>)
}

/** `"20"` → 20 within bounds, for query strings. */
export const intString = (min: number, max: number) =>
  v.pipe(v.string(), v.regex(/^\d{1,9}$/, 'must be an integer'), v.transform(Number), v.minValue(min), v.maxValue(max))
