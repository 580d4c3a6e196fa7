/**
 * An import line's hand check (checkedLine) against the schema it stands in for: it takes exactly
 * the lines the schema takes, gives the same fields, and leaves every other line to the schema,
 * which names the problem.
 */
import { expect, test } from 'bun:test'
import fc from 'fast-check'
import * as v from 'valibot'
import { checkedLine, ImportLineSchema, parseJsonlLine } from '../../src/backup/jsonl'

const FIELDS = ['label', 'content', 'created_at', 'updated_at', 'private'] as const

/** Any JSON value a field might hold, biased to the ones that matter (strings, empty or not; booleans). */
const fieldValue = fc.oneof(
  fc.string(),
  fc.constant(''),
  fc.boolean(),
  fc.constant(null),
  fc.integer(),
  fc.array(fc.string(), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.string(), { maxKeys: 2 }),
)
/** A valid line with one of its fields set to any value, or dropped: one field away from valid. */
const oneFieldOff = fc
  .tuple(
    fc.record({
      label: fc.string({ minLength: 1 }),
      content: fc.string({ minLength: 1 }),
      created_at: fc.string(),
      updated_at: fc.string(),
      private: fc.boolean(),
    }),
    fc.constantFrom(...FIELDS),
    fc.option(fieldValue, { nil: undefined }),
  )
  .map(([line, field, value]) => {
    const out: Record<string, unknown> = { ...line }
    if (value === undefined) delete out[field]
    else out[field] = value
    return out
  })
/** An object with any subset of the fields (and sometimes other keys), or another JSON value. */
const lineValue = fc.oneof(
  { weight: 8, arbitrary: oneFieldOff },
  { weight: 8, arbitrary: fc.record(Object.fromEntries(FIELDS.map((f) => [f, fieldValue])), { requiredKeys: [] }) },
  { weight: 2, arbitrary: fc.record({ label: fc.string({ minLength: 1 }), content: fc.string({ minLength: 1 }), id: fc.uuid(), extra: fieldValue }) },
  { weight: 1, arbitrary: fc.oneof(fc.constant(null), fc.string(), fc.integer(), fc.boolean(), fc.array(fieldValue, { maxLength: 3 })) },
)

const picked = (o: Record<string, unknown>) => Object.fromEntries(FIELDS.map((f) => [f, o[f]]))

test('the hand check takes exactly what the schema takes, with the same fields', () => {
  fc.assert(
    fc.property(lineValue, (json) => {
      const mine = checkedLine(json)
      const theirs = v.safeParse(ImportLineSchema, json)
      expect(mine !== null).toBe(theirs.success)
      if (mine && theirs.success) expect(picked(mine)).toEqual(picked(theirs.output))
    }),
    { numRuns: 3000 },
  )
})

test('a line the hand check leaves is still named by the schema', () => {
  expect(parseJsonlLine('{"label":"note:a","content":""}', 7)).toEqual({ line: 7, message: expect.stringContaining('content is empty') })
  expect(parseJsonlLine('{"label":"note:a","content":"x","private":"yes"}', 8)).toEqual({
    line: 8,
    message: expect.stringContaining('private must be true or false'),
  })
  expect(parseJsonlLine('[1]', 9)).toMatchObject({ line: 9 })
  expect(parseJsonlLine('{"label":"note:a","content":"x","private":true,"id":"z"}', 10)).toEqual({ line: 10, label: 'note:a', content: 'x', private: true })
})
