import { Database } from 'bun:sqlite'
import { describe, expect, test } from 'bun:test'
import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { createBlindIndex, ftsText, tokenize } from '../../src/store/blind-index'

describe('tokenize', () => {
  test.each([
    ['Hello, World!', ['hello', 'world']],
    ['Café CAFÉ cafe', ['cafe', 'cafe', 'cafe']],
    ['ﬁnd the ①', ['find', 'the', '1']],
    ['snake_case-and.dots', ['snake', 'case', 'and', 'dots']],
    ['Привет мир 2026', ['привет', 'мир', '2026']],
    ['   ', []],
    ['"OR" AND NEAR(*)', ['or', 'and', 'near']],
  ])('%p', (text, tokens) => {
    expect(tokenize(text)).toEqual(tokens)
  })
})

describe('ftsText', () => {
  /** The tokens the store's full-text table (same tokenizer) makes of `text`, in order. */
  function ftsTokens(db: Database, text: string): string[] {
    db.run('DELETE FROM t')
    db.query('INSERT INTO t (rowid, body) VALUES (1, ?)').run(text)
    return (db.query('SELECT term FROM v ORDER BY offset').all() as { term: string }[]).map((r) => r.term)
  }

  test('ASCII goes to the index as it is, and the index splits and folds it exactly as tokenize() does', () => {
    const db = new Database(':memory:')
    db.run("CREATE VIRTUAL TABLE t USING fts5 (body, tokenize = 'unicode61 remove_diacritics 2')")
    db.run("CREATE VIRTUAL TABLE v USING fts5vocab (t, 'instance')")
    const ascii = fc.string({ unit: fc.integer({ min: 0, max: 127 }).map((c) => String.fromCharCode(c)), maxLength: 80 })
    fc.assert(
      fc.property(ascii, (text) => {
        expect(ftsTokens(db, ftsText(text))).toEqual(tokenize(text))
      }),
      { numRuns: 500 },
    )
    // Anything else is handed over as our own tokens, as before.
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (text) => /^[\x00-\x7f]*$/.test(text) || ftsText(text) === tokenize(text).join(' ')))
    expect(ftsText('Snake_case-AND.dots 42')).toBe('Snake_case-AND.dots 42')
    expect(ftsText('Café CAFÉ')).toBe('cafe cafe')
    db.close()
  })
})

describe('blind index', () => {
  test('x + 20 hex digits, deterministic per key, different across keys', () => {
    const key = randomBytes(32)
    const a = createBlindIndex(key)
    const b = createBlindIndex(key)
    const other = createBlindIndex(randomBytes(32))
    expect(a.blind('zebra')).toMatch(/^x[0-9a-f]{20}$/)
    expect(a.blind('zebra')).toBe(b.blind('zebra'))
    expect(a.blind('zebra')).not.toBe(a.blind('zebras'))
    expect(a.blind('zebra')).not.toBe(other.blind('zebra'))
  })

  test('a blind token is x + the first 20 hex digits of HMAC-SHA256 under the HKDF-derived key, as every build wrote them', async () => {
    // Computed here with Web Crypto from the definition, so a runtime's own hasher (Bun's) that
    // encoded a word differently would leave every private memory written before unfindable.
    const vaultKey = randomBytes(32)
    const hkdf = await crypto.subtle.importKey('raw', vaultKey, 'HKDF', false, ['deriveBits'])
    const enc = new TextEncoder()
    const bits = await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: enc.encode('mzm-blind-v1'), info: enc.encode('blind-index') }, hkdf, 256)
    const key = await crypto.subtle.importKey('raw', bits, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
    const b = createBlindIndex(vaultKey)
    for (const word of ['zebra', '2026', 'привет', 'straße', '日本語', 'e\u0301', '🦓']) {
      const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, enc.encode(word)))
      expect(b.blind(word)).toBe(`x${Buffer.from(mac).toString('hex').slice(0, 20)}`)
    }
  })

  test('blindText keeps order and repeats, and never contains the words', () => {
    const b = createBlindIndex(randomBytes(32))
    const text = b.blindText('Zebra likes zebra; ZEBRA!')
    const parts = text.split(' ')
    expect(parts).toHaveLength(4)
    expect(parts[0]).toBe(b.blind('zebra'))
    expect(parts[2]).toBe(parts[0]!)
    expect(parts[1]).toBe(b.blind('likes'))
    expect(text).not.toContain('zebra')
  })
})
