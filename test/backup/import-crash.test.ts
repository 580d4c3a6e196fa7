/**
 * A pod killed in the middle of an import keeps every batch it committed and nothing of the one
 * it was writing; the same import run again brings in the rest, each line exactly once, private
 * lines encrypted and every line searchable.
 */
import { expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { mainCommand, ROOT, runCli, spawnPod, tempHome, testEnv } from '../helpers/pod-process'

const LINES = 6000
const BATCH = 1000 // the CLI's lines per request (one transaction each)

function ownRows(home: string): { n: number; labels: number; encrypted: number; sealed: number } {
  const db = new Database(join(home, 'pod.db'), { readonly: true })
  try {
    return db
      .query(
        `SELECT count(*) AS n, count(DISTINCT label) AS labels, sum(encrypted) AS encrypted, sum(content LIKE 'AES:%') AS sealed
         FROM memories WHERE origin_peer IS NULL AND deleted = 0`,
      )
      .get() as { n: number; labels: number; encrypted: number; sealed: number }
  } finally {
    db.close()
  }
}

test('a pod killed mid-import loses nothing: the same import again completes it, each line once', async () => {
  const home = tempHome()
  try {
    const file = join(home, 'export.jsonl')
    const at = '2024-05-06T07:08:09.000Z'
    const line = (i: number) => ({
      label: `${i % 2 ? 'public' : 'note'}:crash-${i}`,
      content: `line ${i} word${i}x`,
      private: i % 2 === 0,
      created_at: at,
      updated_at: at,
    })
    writeFileSync(file, Array.from({ length: LINES }, (_, i) => JSON.stringify(line(i))).join('\n') + '\n', { mode: 0o600 })

    const first = await spawnPod({ home })
    const cli = Bun.spawn([...mainCommand(), 'import', file, '--home', home], {
      cwd: ROOT,
      env: testEnv({ MAZEMAKER_PROGRESS_MS: '0' }),
      stdout: 'pipe',
      stderr: 'pipe',
      stdin: 'ignore',
    })
    // Once the first batch is stored (its progress line), the pod dies with the next one on its way.
    const reader = cli.stderr.getReader()
    const decoder = new TextDecoder()
    let said = ''
    while (!said.includes(`import: ${BATCH.toLocaleString('en-US')}/`)) {
      const { done, value } = await reader.read()
      if (done) break
      said += decoder.decode(value, { stream: true })
    }
    // Stopped while the pod dies, the CLI cannot finish the import first, however slow this test is.
    cli.kill('SIGSTOP')
    await first.kill9()
    cli.kill('SIGCONT')
    reader.releaseLock()
    const [failedRun, code] = await Promise.all([new Response(cli.stdout).text(), cli.exited])
    expect(code).not.toBe(0) // the batches sent after the crash failed, and it says so
    expect(Number(/(\d+) failed/.exec(failedRun)?.[1])).toBeGreaterThan(0)

    // Whole batches or nothing: a transaction the crash cut short left no row.
    const kept = ownRows(home)
    expect(kept.n).toBeGreaterThanOrEqual(BATCH)
    expect(kept.n % BATCH).toBe(0)

    const again = await spawnPod({ home })
    try {
      const out = await runCli(['import', file, '--home', home])
      expect(out.code).toBe(0)
      expect(out.stdout).toContain(`imported ${LINES - kept.n} memories (${kept.n} already present, 0 failed, 0 bad lines)`)
      // A private line and a public one, each found by a word only it holds.
      for (const i of [LINES - 2, LINES - 1, 0, 1]) {
        const hits = await again.api('GET', `/recall?q=word${i}x`)
        expect(hits.body.results.map((m: { label: string }) => m.label)).toEqual([line(i).label])
      }
    } finally {
      await again.stop()
    }
    expect(ownRows(home)).toEqual({ n: LINES, labels: LINES, encrypted: LINES / 2, sealed: LINES / 2 })
  } finally {
    rmSync(home, { recursive: true, force: true })
  }
}, 120_000)
