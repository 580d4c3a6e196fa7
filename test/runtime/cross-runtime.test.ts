/**
 * Bun and Deno run the same source against the same home format and the same wire: a Bun pod and
 * a Deno pod federate both ways, and one home moves from Bun to Deno and back with its memories
 * (vault-encrypted ones included) and its full-text index intact.
 */
import { expect, test } from 'bun:test'
import { readlinkSync } from 'node:fs'
import { basename } from 'node:path'
import { spawnPod, tempDir, type PodProcess, type TestRuntime } from '../helpers/pod-process'
import { copiesFrom, identityOf, pair, remember, syncNow } from '../helpers/federation'

async function start(runtime: TestRuntime, home?: string): Promise<PodProcess> {
  const pod = await spawnPod({ runtime, home })
  try {
    // The process really is that runtime's executable (bun.exe under npm, deno).
    expect(basename(readlinkSync(`/proc/${pod.pid}/exe`))).toStartWith(runtime)
  } catch (err) {
    await pod[Symbol.asyncDispose]()
    throw err
  }
  return pod
}

/** The pod a settled start gave, or its failure thrown. */
function settled(result: PromiseSettledResult<PodProcess>): PodProcess {
  if (result.status === 'rejected') throw result.reason
  return result.value
}

async function stop(pod: PodProcess): Promise<void> {
  expect(await pod.stop()).toBe(0)
}

test('a Bun pod and a Deno pod federate both ways: copies, updates, deletes, recall', async () => {
  // Started side by side; whichever started is stopped at the end, even if the other did not.
  await using started = new AsyncDisposableStack()
  const results = await Promise.allSettled([start('bun'), start('deno')])
  for (const r of results) if (r.status === 'fulfilled') started.use(r.value)
  const [bun, deno] = results.map(settled) as [PodProcess, PodProcess]
  const idBun = (await identityOf(bun)).pod_id
  const idDeno = (await identityOf(deno)).pod_id
  await pair(bun, deno, { scope: 'public:*' })

  await remember(bun, 'public:from-bun', 'written by the bun pod about quokkas')
  await remember(bun, 'note:bun-private', 'bun keeps this')
  const denoMemory = await remember(deno, 'public:from-deno', 'written by the deno pod about axolotls')
  await remember(deno, 'note:deno-private', 'deno keeps this')

  expect((await syncNow(deno))[0]).toMatchObject({ ok: true, stored: 1 })
  expect((await syncNow(bun))[0]).toMatchObject({ ok: true, stored: 1 })
  expect(await copiesFrom(deno, idBun)).toEqual([`peer:${idBun}:public:from-bun`])
  expect(await copiesFrom(bun, idDeno)).toEqual([`peer:${idDeno}:public:from-deno`])
  expect((await deno.api('GET', '/recall?q=quokkas')).body.results[0]).toMatchObject({ label: `peer:${idBun}:public:from-bun`, peer: idBun })
  expect((await bun.api('GET', '/recall?q=axolotls')).body.results[0]).toMatchObject({ label: `peer:${idDeno}:public:from-deno`, peer: idDeno })

  // An edit and then a delete on the Deno side reach the Bun side.
  expect((await deno.api('PATCH', `/memories/${denoMemory}`, { content: 'axolotls regrow limbs' })).status).toBe(200)
  await syncNow(bun)
  expect((await bun.api('GET', '/recall?q=regrow')).body.results).toHaveLength(1)
  expect((await deno.api('DELETE', `/memories/${denoMemory}`)).status).toBe(204)
  await syncNow(bun)
  expect(await copiesFrom(bun, idDeno)).toEqual([])
})

test('a home created under Bun opens under Deno, and back: same identity, memories, index', async () => {
  using dir = tempDir()
  const home = dir.path
  await using first = await start('bun', home)
  const podId = (await identityOf(first)).pod_id
  const secret = await remember(first, 'note:secret', 'vault-encrypted words about pangolins')
  await remember(first, 'public:open', 'plain words about narwhals')
  await stop(first)

  await using second = await start('deno', home)
  expect((await identityOf(second)).pod_id).toBe(podId)
  expect((await second.api('GET', `/memories/${secret}`)).body).toMatchObject({ content: 'vault-encrypted words about pangolins', encrypted: true })
  expect((await second.api('GET', '/recall?q=narwhals')).body.results).toHaveLength(1)
  const fromDeno = await remember(second, 'note:later', 'added under deno about okapis')
  expect(fromDeno).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  await stop(second)

  await using third = await start('bun', home)
  expect((await third.api('GET', `/memories/${fromDeno}`)).body).toMatchObject({ content: 'added under deno about okapis', encrypted: true })
  expect((await third.api('GET', '/recall?q=okapis')).body.results).toHaveLength(1)
  expect((await third.api('GET', '/recall?q=pangolins')).body.results).toHaveLength(1)
})
