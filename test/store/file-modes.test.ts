/** pod.db, -wal and -shm are never left readable by others: fixed at open (said at warn), 0600 from creation under umask 022. */
import { expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { chmodSync, closeSync, openSync, statSync } from 'node:fs'
import { createLogger } from '../../src/lib/log'
import { looseDbFiles } from '../../src/store'
import { tempStores } from './_temp-store'

const modeOf = (p: string) => statSync(p).mode & 0o777
const FILES = ['', '-wal', '-shm']

test('a pod.db, -wal and -shm readable by others are set to 0600 at open, each named at warn', () => {
  using t = tempStores()
  // Another connection keeps -wal and -shm in place while the store opens.
  const other = new Database(t.path, { create: true })
  other.run('PRAGMA journal_mode = WAL')
  other.run('CREATE TABLE IF NOT EXISTS scratch (x)')
  other.run('INSERT INTO scratch VALUES (1)')
  for (const s of FILES) chmodSync(t.path + s, 0o644)
  expect(looseDbFiles(t.path).map((f) => f.path)).toEqual(FILES.map((s) => t.path + s))

  const lines: string[] = []
  const store = t.open({ log: createLogger({ sink: (l) => lines.push(l) }) })
  for (const s of FILES) expect(modeOf(t.path + s)).toBe(0o600)
  expect(looseDbFiles(t.path)).toEqual([])
  const warns = lines.filter((l) => l.includes('level=warn'))
  expect(warns).toHaveLength(3)
  for (const s of FILES) expect(warns.some((l) => l.includes(`path=${t.path + s} `) && l.includes('0644'))).toBe(true)
  store.remember({ label: 'note:x', content: 'y' })
  other.close()
})

test('a pod.db made 0600 before SQLite opens it gets 0600 -wal and -shm under umask 022', () => {
  using t = tempStores()
  const old = process.umask(0o022)
  try {
    const store = t.open()
    store.remember({ label: 'public:x', content: 'y' })
    for (const s of FILES) expect(modeOf(t.path + s)).toBe(0o600)
  } finally {
    process.umask(old)
  }
})

test('a pod.db created 0644 by someone else is fixed before the -wal and -shm exist, so they are born 0600', () => {
  using t = tempStores()
  const old = process.umask(0o022)
  try {
    closeSync(openSync(t.path, 'w', 0o644))
    const store = t.open()
    store.remember({ label: 'public:x', content: 'y' })
    for (const s of FILES) expect(modeOf(t.path + s)).toBe(0o600)
  } finally {
    process.umask(old)
  }
})
