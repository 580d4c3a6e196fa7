/**
 * WireEntrySchema tries the memory shape before the tombstone (speed: nearly every entry is a
 * memory). The outcome must be exactly that of the tombstone-first union: a `deleted: true`
 * entry is a tombstone whatever else it carries, anything else is a memory or refused.
 */
import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import * as v from 'valibot'
import { WireEntrySchema } from '../../src/protocol'
import { UuidSchema } from '../../src/protocol/ids'

// The union as it was written before the reorder, as the reference.
const Iso = v.pipe(v.string(), v.maxLength(40))
const reference = v.union([
  v.object({ id: UuidSchema, deleted: v.literal(true) }),
  v.object({
    id: UuidSchema,
    label: v.pipe(v.string(), v.minLength(1), v.maxLength(4096)),
    content: v.pipe(v.string(), v.minLength(1)),
    created_at: Iso,
    updated_at: Iso,
  }),
])

const uuid = '0a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3'
const at = '2026-05-01T00:00:00.000Z'
const memory = { id: uuid, label: 'public:a', content: 'x', created_at: at, updated_at: at }

describe('WireEntrySchema', () => {
  test('the ambiguous entries decode as tombstone-first would', () => {
    expect(v.parse(WireEntrySchema, { ...memory, deleted: true })).toEqual({ id: uuid, deleted: true })
    expect(v.parse(WireEntrySchema, { ...memory, deleted: false })).toEqual(memory)
    expect(v.parse(WireEntrySchema, { ...memory, deleted: 'yes' })).toEqual(memory)
    expect(v.safeParse(WireEntrySchema, { id: 'not-a-uuid', deleted: true }).success).toBe(false)
    expect(v.safeParse(WireEntrySchema, { id: uuid, deleted: false }).success).toBe(false)
    expect(v.safeParse(WireEntrySchema, null).success).toBe(false)
  })

  test('same success and output as the tombstone-first union on arbitrary entries', () => {
    const field = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined })
    const entry = fc.oneof(
      fc.record(
        {
          id: fc.oneof(fc.constant(uuid), fc.string({ maxLength: 3 })),
          deleted: field(fc.oneof(fc.constant(true), fc.constant(false), fc.string({ maxLength: 2 }), fc.integer())),
          label: field(fc.oneof(fc.constant('public:a'), fc.string({ maxLength: 3 }), fc.integer())),
          content: field(fc.oneof(fc.constant('x'), fc.string({ maxLength: 3 }))),
          created_at: field(fc.oneof(fc.constant(at), fc.string({ maxLength: 50 }))),
          updated_at: field(fc.oneof(fc.constant(at), fc.integer())),
        },
        { requiredKeys: [] },
      ),
      fc.anything(),
    )
    fc.assert(
      fc.property(entry, (e) => {
        const a = v.safeParse(WireEntrySchema, e)
        const b = v.safeParse(reference, e)
        expect(a.success).toBe(b.success)
        if (a.success && b.success) expect(a.output).toEqual(b.output)
      }),
      { numRuns: 2000 },
    )
  })
})
