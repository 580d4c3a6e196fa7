/**
 * Memories a pod wrote before it had a credential scan were served as they were, and no scan
 * ever read them afterwards. A pod upgraded to one with the scan reads each of them once, in the
 * background: what looks like a credential is held, and a peer that had received it gets its
 * tombstone at its next pull. The log and `mazemaker doctor` show the scan's progress.
 *
 * The old pod is played by editing the stopped pod's database the way such a pod left it: a
 * served memory whose content is a credential, marked as read by no scan (on a database without
 * that mark, every row is unread).
 */
import { afterAll, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { join } from 'node:path'
import { runCli, type PodProcess } from '../helpers/pod-process'
import { syncCall } from './_contract'
import { pairedCaller, podTarget, spawn, stopPods, until } from './_fixture'

const TOKEN = ['ghp_', 'wWPw5k4aXcaT4fNP0UcnZwJUVFk6LO0pINUx'].join('')
const pods: PodProcess[] = []
afterAll(async () => {
  await stopPods(pods)
})

test('a credential no scan has read is held once the pod scans it; the peer that had it receives its tombstone; doctor and the log tell', async () => {
  const first = await spawn()
  pods.push(first)
  const leaked = (await first.api('POST', '/memories', { label: 'public:deploy', content: 'deploy notes' })).body.id
  const fine = (await first.api('POST', '/memories', { label: 'public:weather', content: 'sunny' })).body.id
  const { self } = await pairedCaller(first)
  const before = await syncCall(self, await podTarget(first), { since: null, scope: ['*'], limit: 100 })
  expect(before.page!.memories.map((m) => m.id).sort()).toEqual([leaked, fine].sort())
  await first.stop()

  const db = new Database(join(first.home, 'pod.db'))
  db.query('UPDATE memories SET content = ? WHERE id = ?').run(`deploy with ${TOKEN}`, leaked)
  const columns = (db.query('PRAGMA table_info(memories)').all() as { name: string }[]).map((c) => c.name)
  if (columns.includes('scanned')) db.query('UPDATE memories SET scanned = 0 WHERE id = ?').run(leaked)
  db.close()

  const pod = await spawn({ home: first.home })
  pods.push(pod)
  await until(() => /op=secret_scan .*every memory has been scanned/.test(pod.logs()))
  expect(pod.logs()).toMatch(/op=secret_scan count=1 .*scanning memories that no credential scan has read/)

  const after = await syncCall(self, await podTarget(pod), { since: before.page!.cursor, scope: ['*'], limit: 100 })
  expect(after.status).toBe(200)
  expect(after.page!.memories).toEqual([{ id: leaked, deleted: true }])
  const held = await pod.api('GET', '/memories/held')
  expect(held.body.memories.map((m: { id: string }) => m.id)).toEqual([leaked])

  const doctor = await runCli(['doctor', '--json', '--home', pod.home])
  const scan = JSON.parse(doctor.stdout).checks.find((c: { name: string }) => c.name === 'scan')
  expect(scan).toMatchObject({ ok: true, detail: expect.stringContaining('every public memory has been scanned') })
})
