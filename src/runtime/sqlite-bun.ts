/**
 * SQLite on Bun: bun:sqlite's Database already has the shape of our SqliteDatabase (query cached
 * by SQL text, exec, transaction(fn).immediate(), get → null), so it is handed out as is and the
 * store's hot paths pay for no wrapper.
 */
import type { OpenSqliteOptions, SqliteDatabase } from './types'

export function openBunSqlite(path: string, opts: OpenSqliteOptions = {}): SqliteDatabase {
  // Required on first use, not imported: Deno resolves every static import of the module graph
  // before running anything, and has no bun: scheme.
  const { Database } = require('bun:sqlite') as typeof import('bun:sqlite')
  // strict: bind `?` positionally and throw on a missing parameter instead of binding NULL.
  const db = opts.readonly ? new Database(path, { readonly: true, strict: true }) : new Database(path, { create: true, strict: true })
  return db as unknown as SqliteDatabase
}
