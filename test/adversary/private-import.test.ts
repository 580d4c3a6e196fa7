/**
 * An export marks each memory `"private": true` or false. Imported into a pod where that label
 * is public (or handed over by someone who edited the file), a private memory would become
 * shared with every peer without anyone choosing it. `mazemaker import` refuses such lines
 * unless `--share` says to share them, as `--from server-memory` does for a public prefix:
 * refused, nothing is imported and no peer receives anything.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runCli, type PodProcess } from '../helpers/pod-process'
import { syncCall, type KeyPair, type PodTarget } from './_contract'
import { pairedCaller, spawn, stopPods } from './_fixture'

let pod: PodProcess
let caller: { self: KeyPair; target: PodTarget }
let file: string
beforeAll(async () => {
  pod = await spawn()
  caller = await pairedCaller(pod)
  file = join(pod.home, 'handed-over.jsonl')
  const at = '2026-01-02T03:04:05.000Z'
  const lines = [
    { label: 'public:release-notes', content: 'v2 ships on friday', private: false, created_at: at, updated_at: at },
    { label: 'public:salary-review', content: 'private at the source: the salary bands', private: true, created_at: at, updated_at: at },
    { label: 'note:diary', content: 'private here as well', private: true, created_at: at, updated_at: at },
  ]
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n', { mode: 0o600 })
})
afterAll(async () => {
  await stopPods([pod])
})

async function servedLabels(): Promise<string[]> {
  const res = await syncCall(caller.self, caller.target, { since: null, scope: ['*'], limit: 1000 })
  expect(res.status).toBe(200)
  return res.page!.memories.map((m) => m.label ?? '')
}

async function ownLabels(): Promise<string[]> {
  const res = await pod.api('GET', '/memories?origin=local&limit=500')
  return res.body.memories.map((m: { label: string }) => m.label).sort()
}

test('a line private at the source whose label is public here is refused without --share; nothing is imported', async () => {
  const out = await runCli(['import', file, '--home', pod.home])
  expect(out.code).not.toBe(0)
  expect(out.stdout + out.stderr).toContain('--share')
  expect(out.stdout + out.stderr).toContain('line 2')
  expect(await ownLabels()).toEqual([])
  expect(await servedLabels()).toEqual([])
})

test('with --share the operator chose it: all lines are imported and the public ones are served', async () => {
  const out = await runCli(['import', file, '--share', '--home', pod.home])
  expect(out.code).toBe(0)
  expect(await ownLabels()).toEqual(['note:diary', 'public:release-notes', 'public:salary-review'])
  expect((await servedLabels()).sort()).toEqual(['public:release-notes', 'public:salary-review'])
})
