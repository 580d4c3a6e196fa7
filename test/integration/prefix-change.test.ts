/**
 * Prefix changes end to end, with real pod processes: `auto:` removed from pod.toml's
 * public_prefixes while a peer holds copies; after the restart the peer drops them, pod.db and
 * its WAL hold no plaintext of them, and later private edits send the peer nothing.
 */
import { expect, test } from 'bun:test'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse, stringify } from 'smol-toml'
import { spawnPod } from '../helpers/pod-process'
import { copiesFrom, identityOf, pair, remember, syncNow } from '../helpers/federation'

function rawHits(home: string, marker: string): string[] {
  return ['pod.db', 'pod.db-wal', 'pod.db-shm'].filter((f) => existsSync(join(home, f)) && readFileSync(join(home, f)).includes(Buffer.from(marker)))
}

test('auto: removed from public_prefixes: the peer drops its copies, no plaintext stays on disk, later edits send nothing', async () => {
  await using a = await spawnPod()
  await using b = await spawnPod()
  const idA = (await identityOf(a)).pod_id
  await pair(a, b, { scope: '*' })
  const marker = 'zqxpod' + crypto.randomUUID().replaceAll('-', '')
  const id = await remember(a, 'auto:session', `the agent noted ${marker} today`)
  await remember(a, 'public:stays', 'still shared')
  await syncNow(b)
  expect(await copiesFrom(b, idA)).toEqual([`peer:${idA}:auto:session`, `peer:${idA}:public:stays`])

  expect(await a.stop()).toBe(0)
  const tomlPath = join(a.home, 'pod.toml')
  const config = parse(readFileSync(tomlPath, 'utf8')) as { public_prefixes: string[] }
  expect(config.public_prefixes).toContain('auto:')
  config.public_prefixes = config.public_prefixes.filter((p) => p !== 'auto:')
  writeFileSync(tomlPath, stringify(config))
  expect(rawHits(a.home, marker)).toContain('pod.db')

  await using a2 = await spawnPod({ home: a.home })
  expect(a2.logs()).toContain('op=reconcile')
  expect(rawHits(a.home, marker)).toEqual([])
  const got = await a2.api('GET', `/memories/${id}`)
  expect(got.body).toMatchObject({ label: 'auto:session', encrypted: true })
  expect(got.body.content).toContain(marker)

  expect((await b.api('PATCH', `/peer/peers/${idA}`, { url: a2.url })).status).toBe(200)
  expect((await syncNow(b))[0]).toMatchObject({ ok: true, deleted: 1 })
  expect(await copiesFrom(b, idA)).toEqual([`peer:${idA}:public:stays`])

  // The tombstone was served; private edits from now on send the peer nothing.
  expect((await a2.api('PATCH', `/memories/${id}`, { content: 'edited in private' })).status).toBe(200)
  expect((await syncNow(b))[0]).toMatchObject({ ok: true, fetched: 0 })
  await a2.api('DELETE', `/memories/${id}`)
  expect((await syncNow(b))[0]).toMatchObject({ ok: true, fetched: 0 })
  expect(rawHits(a.home, marker)).toEqual([])
})
