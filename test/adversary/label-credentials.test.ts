/**
 * A credential in a label: `public:token ghp_…` is as public as the content beside it (labels
 * travel in every served page). The pod's credential hold reads label and content: such a memory
 * is held (the answer says so) and a paired peer's pull never receives it, whether the label was
 * given on remember or by a later edit of a memory that had been served.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { PodProcess } from '../helpers/pod-process'
import { syncCall, type KeyPair, type PodTarget } from './_contract'
import { pairedCaller, spawn, stopPods } from './_fixture'

// A real-shaped, never-issued GitHub token, assembled at run time so scanners of this repository pass it by.
const TOKEN = ['ghp_', 'wWPw5k4aXcaT4fNP0UcnZwJUVFk6LO0pINUx'].join('')

let pod: PodProcess
let caller: { self: KeyPair; target: PodTarget }
beforeAll(async () => {
  pod = await spawn()
  caller = await pairedCaller(pod)
})
afterAll(async () => {
  await stopPods([pod])
})

async function served(): Promise<{ id: string; label?: string; content?: string; deleted?: true }[]> {
  const res = await syncCall(caller.self, caller.target, { since: null, scope: ['*'], limit: 1000 })
  expect(res.status).toBe(200)
  return res.page!.memories
}

test('a token in the label of a public memory is held on remember and never served', async () => {
  const res = await pod.api('POST', '/memories', { label: `public:token ${TOKEN}`, content: 'the CI token, for the deploy job' })
  expect(res.status).toBe(201)
  expect(res.body.held).toBe(true)
  expect(res.body.warning).toContain('held back')
  const clean = await pod.api('POST', '/memories', { label: 'public:deploy', content: 'deploys run from main' })
  expect(clean.body.held).toBe(false)
  const labels = (await served()).map((m) => m.label)
  expect(labels).toContain('public:deploy')
  expect(labels.some((l) => l?.includes(TOKEN))).toBe(false)
  const held = await pod.api('GET', '/memories/held')
  expect(held.body.memories.map((m: { id: string }) => m.id)).toContain(res.body.id)
})

test('re-labelling a served memory to carry a token holds it: peers get its tombstone, never the label', async () => {
  const res = await pod.api('POST', '/memories', { label: 'public:ci', content: 'the CI job pushes images' })
  expect(res.body.held).toBe(false)
  expect((await served()).find((m) => m.id === res.body.id)?.label).toBe('public:ci')
  const edit = await pod.api('PATCH', `/memories/${res.body.id}`, { label: `public:ci ${TOKEN}` })
  expect(edit.status).toBe(200)
  expect(edit.body.held).toBe(true)
  const after = (await served()).filter((m) => m.id === res.body.id)
  expect(after).toEqual([{ id: res.body.id, deleted: true }])
})
