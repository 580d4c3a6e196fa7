/**
 * FTS5's structure record of a store's full-text index: how many segments it has written (its
 * write counter: a batch whose rows were written together adds one; rows interleaved with other
 * statements add one each), and how many it holds now (merges make several one).
 */
import { Database } from 'bun:sqlite'

/** SQLite's varint (big-endian 7-bit groups, the 9th byte whole), as FTS5 writes its structure record. */
function varint(bytes: Uint8Array, at: number): [value: number, next: number] {
  let v = 0
  for (let i = 0; i < 9; i++) {
    const b = bytes[at + i]!
    if (i === 8) return [v * 256 + b, at + 9]
    v = v * 128 + (b & 0x7f)
    if (b < 0x80) return [v, at + i + 1]
  }
  throw new Error('unreachable')
}

function structure(path: string): { held: number; written: number } {
  const db = new Database(path, { readonly: true })
  try {
    const row = db.query('SELECT block FROM memories_fts_data WHERE id = 10').get() as { block: Uint8Array } | null
    if (!row) return { held: 0, written: 0 }
    let at = 4 // cookie
    // The version 2 record (contentless_delete) starts with ff 00 00 01 after the cookie.
    if (row.block[4] === 0xff && row.block[5] === 0 && row.block[6] === 0 && row.block[7] === 1) at += 4
    const [, afterLevels] = varint(row.block, at)
    const [held, afterSegments] = varint(row.block, afterLevels)
    return { held, written: varint(row.block, afterSegments)[0] }
  } finally {
    db.close()
  }
}

export const segmentsWritten = (path: string): number => structure(path).written
export const segmentsHeld = (path: string): number => structure(path).held

/** FTS5's automerge as the pod.db at `path` keeps it (no row: the default, 4); read from outside the store. */
export function automergeInFile(path: string): number {
  const db = new Database(path, { readonly: true })
  try {
    return (db.query("SELECT v FROM memories_fts_config WHERE k = 'automerge'").get() as { v: number } | null)?.v ?? 4
  } finally {
    db.close()
  }
}
