/** `mazemaker peer accept-deletes <peer>`: applies a held mass delete through the running pod. */
import { expect, test } from 'bun:test'
import { runCli, spawnPod } from '../helpers/pod-process'
import { pair, syncNow } from '../helpers/federation'

test('a held mass delete: sync says held, accept-deletes applies it, the peer is ready again', async () => {
  await using a = await spawnPod()
  await using b = await spawnPod()
  await pair(a, b)
  const ids: string[] = []
  for (let i = 0; i < 150; i++) ids.push((await a.api('POST', '/memories', { label: `public:m${i}`, content: `memory ${i}` })).body.id)
  expect((await syncNow(b))[0]).toMatchObject({ ok: true, stored: 150 })
  for (const id of ids.slice(0, 140)) expect((await a.api('DELETE', `/memories/${id}`)).status).toBe(204)

  const port = new URL(b.url).port
  const sync = await runCli(['sync', '--home', b.home, '--port', port])
  expect(sync.stdout).toContain('held=140')
  const list = await runCli(['peer', 'list', '--home', b.home, '--port', port])
  expect(list.stdout).toContain('held')

  const peerId = (await b.api('GET', '/peer/peers')).body.peers[0].id as string
  const r = await runCli(['peer', 'accept-deletes', peerId.slice(0, 8), '--home', b.home, '--port', port])
  expect(r.code).toBe(0)
  expect(r.stdout).toContain('140 copies deleted or overwritten; status ready')
  expect((await b.api('GET', '/peer/peers')).body.peers[0]).toMatchObject({ status: 'ready', memories: 10 })
  const again = await runCli(['peer', 'accept-deletes', peerId, '--home', b.home, '--port', port])
  expect(again.stdout).toContain('nothing was held')
}, 60_000)
