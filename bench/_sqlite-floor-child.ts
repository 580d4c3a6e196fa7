/**
 * Child of sqlite-floor.bench.ts, run under Bun or Deno (argv: mode, rows). Writes `rows` copies
 * into a fresh pod.db (the pod's own schema, triggers and indexes, through the runtime adapter)
 * in transactions of 1,000, as a pull's pages are written, and prints one JSON line with the
 * CPU seconds the writing took:
 *   sql:   the rows made by SQLite itself (a recursive CTE) and indexed from the table, so no
 *          value crosses from JavaScript: the runtime's SQLite build alone;
 *   bound: the same rows bound from JavaScript in 64-row INSERTs, as applyRemote binds a page's
 *          copies (multi-row.ts), then indexed from the table the same way.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase } from '../src/store/database'
import { runsOf, valuesOf } from '../src/store/multi-row'
import type { SqlValue } from '../src/runtime'

const [mode, rowsArg] = process.argv.slice(2) as ['sql' | 'bound', string]
const ROWS = Number(rowsArg)
const PAGE = 1000
const PEER = '0190f0e0-0000-7000-8000-000000000001'
const COLUMNS = 'pk, id, label, content, encrypted, created_at, updated_at, seq, origin_peer, origin_id'
const LABEL_AT = `peer:${PEER}:`.length + 1
const STAMP = '2026-01-01T00:00:00.000Z'

const dir = mkdtempSync(join(tmpdir(), 'mzm-sqlite-floor-'))
const db = openDatabase(join(dir, 'pod.db'))
// As a bulk pull writes (remote-copies.ts, bulk-writes.ts): commits not synced, no checkpoint
// on this connection, FTS5's automerge off.
db.exec('PRAGMA synchronous = NORMAL')
db.exec('PRAGMA wal_autocheckpoint = 0')
db.exec("INSERT INTO memories_fts (memories_fts, rank) VALUES ('automerge', 0)")
const hex = (n: number, width = 12) => n.toString(16).padStart(width, '0')
const content = (i: number) => `memory ${i} about the quick brown fox and the lazy dog who sat on the mat, note ${i % 997}`

const cpu = () => {
  const c = process.cpuUsage()
  return (c.user + c.system) / 1e6
}
const start = cpu()
for (let first = 1; first <= ROWS; first += PAGE) {
  const last = Math.min(ROWS, first + PAGE - 1)
  db.transaction(() => {
    if (mode === 'sql') {
      db.exec(`WITH RECURSIVE n(i) AS (SELECT ${first} UNION ALL SELECT i + 1 FROM n WHERE i < ${last})
        INSERT INTO memories (${COLUMNS})
        SELECT i, printf('0190f0e1-0000-7000-8000-%012x', i), '${`peer:${PEER}:`}public:m' || i,
          'memory ' || i || ' about the quick brown fox and the lazy dog who sat on the mat, note ' || (i % 997),
          0, '${STAMP}', '${STAMP}', i, '${PEER}', printf('0190f0e2-0000-7000-8000-%012x', i) FROM n`)
    } else {
      const rows = Array.from({ length: last - first + 1 }, (_, k) => first + k)
      for (const run of runsOf(rows)) {
        const params: SqlValue[] = []
        for (const i of run)
          params.push(
            i,
            `0190f0e1-0000-7000-8000-${hex(i)}`,
            `peer:${PEER}:public:m${i}`,
            content(i),
            STAMP,
            STAMP,
            i,
            PEER,
            `0190f0e2-0000-7000-8000-${hex(i)}`,
          )
        db.query(`INSERT INTO memories (${COLUMNS}) VALUES ${valuesOf('(?, ?, ?, ?, 0, ?, ?, ?, ?, ?)', run.length)}`).run(...params)
      }
    }
    db.query(`INSERT INTO memories_fts (rowid, label, body) SELECT pk, substr(label, ${LABEL_AT}), content FROM memories WHERE pk BETWEEN ? AND ?`).run(
      first,
      last,
    )
  }).immediate()
}
const cpuS = cpu() - start
const n = (db.query('SELECT count(*) AS n FROM memories').get() as { n: number }).n
db.close()
rmSync(dir, { recursive: true, force: true })
if (n !== ROWS) throw new Error(`wrote ${n} rows, expected ${ROWS}`)
console.log(JSON.stringify({ cpuS }))
