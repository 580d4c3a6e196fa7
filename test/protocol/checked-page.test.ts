/**
 * checkedPage, the puller's hand check of a /peer/sync page, against SyncResponseSchema: on every
 * page, valid or broken in one field, the check either steps aside (null: the schema decides) or
 * returns exactly what the schema returns. It may never take a page the schema refuses, and it
 * takes every valid page (else it saves nothing).
 */
import { describe, expect, test } from 'bun:test'
import * as v from 'valibot'
import { checkedPage, decodeSyncResponse, SyncResponseSchema } from '../../src/protocol/sync-messages'
import { BadInput } from '../../src/lib/errors'

const POD = '0190f0e0-0000-7000-8000-00000000000a'
const id = (i: number) => `0190f0e1-0000-7000-8000-${i.toString(16).padStart(12, '0')}`
const STAMP = '2026-12-07T05:00:00.000Z'

function validPage(): Record<string, unknown> {
  return {
    pod_id: POD,
    cursor: 'c:42',
    more: true,
    memories: [
      { id: id(1), label: 'public:a', content: 'first', created_at: STAMP, updated_at: STAMP },
      { id: id(2), deleted: true },
      { id: id(3), label: 'public:b', content: 'third', created_at: STAMP, updated_at: STAMP, deleted: false, extra: 1 },
      { id: id(4), label: 'x', content: 'y', created_at: '', updated_at: STAMP },
      { id: id(5), deleted: true, label: 'kept out', content: 'of the tombstone' },
    ],
  }
}

/** Values that break, or sit on the edge of, some field's rule. */
const ODD_VALUES: unknown[] = [
  undefined,
  null,
  0,
  1,
  true,
  false,
  '',
  'x',
  'yes',
  'x'.repeat(40),
  'x'.repeat(41),
  'x'.repeat(64),
  'x'.repeat(65),
  'x'.repeat(4096),
  'x'.repeat(4097),
  id(9),
  id(9).toUpperCase(),
  `${id(9)} `,
  {},
  [],
  [id(9)],
]

/** Every page that differs from a valid one in one place: each field of the page and of each entry set to each odd value or removed, each entry replaced. */
function brokenPages(): unknown[] {
  const pages: unknown[] = [null, [], 'page', 1, {}]
  const fields = ['pod_id', 'cursor', 'more', 'memories']
  for (const field of fields) {
    for (const value of ODD_VALUES) {
      const page = validPage()
      if (value === undefined) delete page[field]
      else page[field] = value
      pages.push(page)
    }
  }
  const entryFields = ['id', 'label', 'content', 'created_at', 'updated_at', 'deleted']
  for (let at = 0; at < 5; at++) {
    for (const field of entryFields) {
      for (const value of ODD_VALUES) {
        const page = validPage()
        const entry = (page.memories as Record<string, unknown>[])[at]!
        if (value === undefined) delete entry[field]
        else entry[field] = value
        pages.push(page)
      }
    }
    for (const value of ODD_VALUES) {
      const page = validPage()
      ;(page.memories as unknown[])[at] = value
      pages.push(page)
    }
  }
  for (const n of [0, 1000, 1001]) {
    const page = validPage()
    page.memories = Array.from({ length: n }, (_, i) => ({ id: id(i), label: 'public:n', content: `c${i}`, created_at: STAMP, updated_at: STAMP }))
    pages.push(page)
  }
  return pages
}

describe('checkedPage', () => {
  test('takes a valid page and returns what the schema returns (unknown keys and a false deleted dropped)', () => {
    const page = validPage()
    const schema = v.parse(SyncResponseSchema, page)
    const checked = checkedPage(page)
    expect(checked).not.toBeNull()
    expect(checked).toStrictEqual(schema)
    expect(JSON.stringify(checked)).toBe(JSON.stringify(schema))
    expect(checked!.memories[2]).toStrictEqual({ id: id(3), label: 'public:b', content: 'third', created_at: STAMP, updated_at: STAMP })
    expect(checked!.memories[4]).toStrictEqual({ id: id(5), deleted: true })
  })

  test('on every page one field away from valid: steps aside, or agrees with the schema', () => {
    let taken = 0
    let refused = 0
    for (const page of brokenPages()) {
      const schema = v.safeParse(SyncResponseSchema, page)
      const checked = checkedPage(page)
      if (!schema.success) {
        refused++
        expect({ page, checked }).toEqual({ page, checked: null })
        continue
      }
      // Every page the schema takes is one the check takes too: no valid page pays for both.
      expect({ page, checked: checked === null ? null : 'taken' }).toEqual({ page, checked: 'taken' })
      expect(checked).toStrictEqual(schema.output)
      taken++
    }
    // Both kinds were really tried.
    expect(taken).toBeGreaterThan(50)
    expect(refused).toBeGreaterThan(200)
  })

  test('a broken page still fails with the schema’s message, naming the field', () => {
    const page = validPage()
    ;(page.memories as Record<string, unknown>[])[3]!.label = 'x'.repeat(4097)
    const bytes = new TextEncoder().encode(JSON.stringify(page))
    expect(() => decodeSyncResponse(bytes)).toThrow(BadInput)
    expect(() => decodeSyncResponse(bytes)).toThrow(/memories\.3\.label/)
  })
})
