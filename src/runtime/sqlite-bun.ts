/**
 * SQLite on Bun: bun:sqlite's Database already has the shape of our SqliteDatabase (query cached
 * by SQL text, exec, transaction(fn).immediate(), get → null), so it is handed out as is and the
 * store's hot paths pay for no wrapper. Imported only under Bun (index.ts picks the adapter).
 */
import { Database } from 'bun:sqlite'
import type { OpenSqliteOptions, SqliteDatabase } from './types'

export function openBunSqlite(path: string, opts: OpenSqliteOptions = {}): SqliteDatabase {
  // strict: bind `?` positionally and throw on a missing parameter instead of binding NULL.
  const db = opts.readonly ? new Database(path, { readonly: true, strict: true }) : new Database(path, { create: true, strict: true })
  return db as unknown as SqliteDatabase
}
