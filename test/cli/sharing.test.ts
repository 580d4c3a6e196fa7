/**
 * The sharing commands as an operator runs them (the real CLI, a subprocess, against a running
 * pod): remember warns about a credential, memory held / release, peer preview, peer log.
 */
import { expect, test } from 'bun:test'
import { runCli, spawnPod } from '../helpers/pod-process'
import { identityOf, pair, remember, syncNow } from '../helpers/federation'
import { FAKE_SECRETS } from '../store/_fake-secrets'

test('remember warns and holds; memory held lists; peer preview and log show what the peer gets and got; release lets it through', async () => {
  await using a = await spawnPod()
  await using b = await spawnPod()
  await pair(a, b)
  const idB = (await identityOf(b)).pod_id
  const home = ['--home', a.home]

  await remember(a, 'public:one', 'first shared memory')
  const r = await runCli(['remember', 'public:slack', FAKE_SECRETS['Slack webhook']!, ...home])
  expect(r.code).toBe(0)
  expect(r.stdout).toContain('(HELD)')
  expect(r.stderr).toContain('warning: label or content looks like a credential (IncomingWebhook)')
  expect(r.stderr).not.toContain('hooks.slack.com')
  const heldId = r.stdout.split(/\s+/)[0]!

  const held = await runCli(['memory', 'held', ...home])
  expect(held.stdout).toContain(heldId)
  expect(held.stdout).toContain('1 held')

  const preview = await runCli(['peer', 'preview', idB.slice(0, 8), ...home])
  expect(preview.code).toBe(0)
  expect(preview.stdout).toContain(`${idB.slice(0, 8)} would receive 1 memory`)
  expect(preview.stdout).toContain('1 held back')
  expect(preview.stdout).toContain('public:one')
  expect(preview.stdout).not.toContain('public:slack')
  const previewJson = JSON.parse((await runCli(['peer', 'preview', idB, '--json', ...home])).stdout)
  expect(previewJson).toMatchObject({ total: 1, held: 1, by_prefix: { 'public:': 1 } })

  expect((await runCli(['peer', 'log', idB, ...home])).stdout).toContain('nothing served to this peer')
  await syncNow(b)
  const log = await runCli(['peer', 'log', idB, ...home])
  expect(log.stdout).toMatch(/\d{4}-\d\d-\d\dT\S+\s+1 entry/)

  const rel = await runCli(['memory', 'release', heldId, ...home])
  expect(rel.code).toBe(0)
  expect(rel.stdout).toContain('released')
  expect((await runCli(['memory', 'held', ...home])).stdout).toContain('nothing is held')
  expect(JSON.parse((await runCli(['peer', 'preview', idB, '--json', ...home])).stdout)).toMatchObject({ total: 2, held: 0 })

  const bad = await runCli(['memory', 'release', 'nope', ...home])
  expect(bad.code).toBe(1)
  expect(bad.stderr).toBe('error: invalid memory id: memory id must be a lowercase UUID\n')
}, 60_000)

test('peer preview says what the peer’s scope leaves out ("3 auto: memories not in scope")', async () => {
  await using a = await spawnPod()
  await using b = await spawnPod()
  // b pulls from a with a narrowed scope.
  await pair(a, b, { scope: 'public:*' })
  const idB = (await identityOf(b)).pod_id
  await remember(a, 'public:one', 'shared and in scope')
  for (let i = 0; i < 3; i++) await remember(a, `auto:note-${i}`, `shared, but not asked for ${i}`)
  await remember(a, 'note:private', 'never shared')
  // Before b pulls: the gate alone (*), nothing left out.
  expect(JSON.parse((await runCli(['peer', 'preview', idB, '--json', '--home', a.home])).stdout)).toMatchObject({ total: 4, left_out: {} })
  await syncNow(b)
  const preview = await runCli(['peer', 'preview', idB.slice(0, 8), '--home', a.home])
  expect(preview.stdout).toContain(`${idB.slice(0, 8)} would receive 1 memory (scope public:*, the scope it last asked with)`)
  expect(preview.stdout).toContain('3 auto: memories not in scope')
  expect(preview.stdout).not.toContain('note:')
  const json = JSON.parse((await runCli(['peer', 'preview', idB, '--json', '--home', a.home])).stdout)
  expect(json).toMatchObject({ total: 1, by_prefix: { 'public:': 1 }, left_out: { 'auto:': 3 } })
}, 60_000)
