/**
 * Local memory routes: remember, list, get, update, forget, recall, and the secret holds (held
 * memories, release). Admin auth is applied by app.ts.
 */
import { Hono } from 'hono'
import * as v from 'valibot'
import { BadInput, NotFound } from '../lib/errors'
import { LABEL_MAX_CHARS, UUID_RE } from '../protocol'
import { IMPORT_BATCH_MAX, type Store } from '../store'
import { intString, jsonBody, param, query } from './validate'

const LabelSchema = v.pipe(v.string(), v.minLength(1, 'label is empty'), v.maxLength(LABEL_MAX_CHARS, `label is longer than ${LABEL_MAX_CHARS} characters`))

/** Shape only here; the store checks it is a real date from 2000 up to its clock (+ skew). */
const TimestampField = v.optional(v.pipe(v.string(), v.maxLength(64, 'is not an ISO 8601 timestamp')))

export const RememberSchema = v.strictObject({
  label: LabelSchema,
  content: v.pipe(v.string(), v.minLength(1, 'content is empty')),
  // Original times, for import; absent means now.
  created_at: TimestampField,
  updated_at: TimestampField,
})

/**
 * An import batch: fields are only type-checked here, so one bad memory fails alone (the store
 * checks each as POST /memories would) instead of refusing the whole batch.
 */
const ImportSchema = v.strictObject({
  memories: v.pipe(
    v.array(
      v.strictObject({
        label: v.string(),
        content: v.string(),
        created_at: v.optional(v.string()),
        updated_at: v.optional(v.string()),
      }),
    ),
    v.maxLength(IMPORT_BATCH_MAX, `at most ${IMPORT_BATCH_MAX} memories per request`),
  ),
  dry_run: v.optional(v.boolean()),
})

const UpdateSchema = v.strictObject({
  label: v.optional(LabelSchema),
  content: v.optional(v.pipe(v.string(), v.minLength(1, 'content is empty'))),
})

const ListQuery = v.object({
  prefix: v.optional(v.pipe(v.string(), v.maxLength(512))),
  limit: v.optional(intString(1, 500)),
  cursor: v.optional(v.pipe(v.string(), v.maxLength(64))),
  origin: v.optional(v.pipe(v.string(), v.regex(/^(local|[0-9a-f-]{36})$/, 'must be "local" or a peer id'))),
})

const HeldQuery = v.object({ limit: v.optional(intString(1, 500)) })

const RecallQuery = v.object({
  q: v.pipe(v.string('q is required'), v.minLength(1, 'q is empty'), v.maxLength(1024, 'q is longer than 1024 characters')),
  k: v.optional(intString(1, 100)),
})

export const MemoryId = v.pipe(v.string(), v.regex(UUID_RE, 'memory id must be a lowercase UUID'))

const memoryId = param('id', MemoryId, 'memory id')

export interface MemoryRouteDeps {
  store: Store
}

export function memoryRoutes(deps: MemoryRouteDeps) {
  const { store } = deps
  // /memories/held comes before /memories/:id, which would take "held" for an id.
  return new Hono()
    .post('/memories', jsonBody(RememberSchema), async (c) => c.json(await store.rememberGrouped(c.req.valid('json')), 201))
    .post('/memories/import', jsonBody(ImportSchema), async (c) => {
      const body = c.req.valid('json')
      const outcomes = await store.importMemories(body.memories, { dryRun: body.dry_run === true })
      const answer = { imported: 0, present: 0, held: 0, failed: [] as { index: number; message: string }[] }
      outcomes.forEach((o, index) => {
        if (o.status === 'present') answer.present++
        else if (o.status === 'failed') answer.failed.push({ index, message: o.message })
        else {
          answer.imported++
          if (o.held) answer.held++
        }
      })
      return c.json(answer)
    })
    .get('/memories/held', query(HeldQuery), (c) => c.json({ memories: store.listHeld(c.req.valid('query').limit ?? 100) }))
    .post('/memories/:id/release', memoryId, (c) => {
      const { id } = c.req.valid('param')
      const memory = store.release(id)
      if (!memory) throw new NotFound(`no memory ${id}`)
      return c.json(memory)
    })
    .get('/memories', query(ListQuery), (c) => {
      const q = c.req.valid('query')
      return c.json(store.list({ prefix: q.prefix, limit: q.limit, cursor: q.cursor, origin: q.origin }))
    })
    .get('/memories/:id', memoryId, (c) => {
      const { id } = c.req.valid('param')
      const memory = store.get(id)
      if (!memory) throw new NotFound(`no memory ${id}`)
      return c.json(memory)
    })
    .patch('/memories/:id', memoryId, jsonBody(UpdateSchema), async (c) => {
      const { id } = c.req.valid('param')
      const memory = await store.updateScanned(id, c.req.valid('json'))
      if (!memory) throw new NotFound(`no memory ${id}`)
      return c.json(memory)
    })
    .delete('/memories/:id', memoryId, (c) => {
      const { id } = c.req.valid('param')
      if (!store.forget(id)) throw new NotFound(`no memory ${id}`)
      return c.body(null, 204)
    })
    .get('/recall', query(RecallQuery), (c) => {
      const q = c.req.valid('query')
      if (q.q.trim() === '') throw new BadInput('q has no words')
      return c.json({ results: store.recall(q.q, q.k ?? 10) })
    })
}
