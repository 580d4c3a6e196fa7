/**
 * Federation between real pod processes on loopback: the seed's pairing flow, the gate, updates
 * and deletes, hub and spoke, revocation and pausing, scope narrowing.
 */
import { describe, expect, test } from 'bun:test'
import { rmSync, writeFileSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawnPods, runCli } from '../helpers/pod-process'
import { addPeer, copiesFrom, identityOf, pair, remember, syncNow } from '../helpers/federation'

describe('pairing by handshake (the seed flow)', () => {
  test('exactly the shareable memories arrive, both ways, under peer:<id>:', async () => {
    await using pods = await spawnPods(2)
    const [a, b] = pods
    const idA = (await identityOf(a)).pod_id
    const idB = (await identityOf(b)).pod_id
    await pair(a, b, { scope: ['public:*', 'decision:*'] })

    await remember(a, 'public:alpha', 'alpha is shared')
    await remember(a, 'decision:db', 'we chose sqlite')
    await remember(a, 'note:private', 'a private note about zebras')
    await remember(a, 'ops:deploy', 'ops is public but outside the scope')
    await remember(b, 'public:beta', 'beta is shared back')
    await remember(b, 'diary:b', 'private on b')

    const results = await syncNow(b)
    expect(results).toHaveLength(1)
    expect(results[0]!.ok).toBe(true)
    expect(await copiesFrom(b, idA)).toEqual([`peer:${idA}:decision:db`, `peer:${idA}:public:alpha`])

    await syncNow(a)
    expect(await copiesFrom(a, idB)).toEqual([`peer:${idB}:public:beta`])

    // Recall surfaces copies and says where they came from.
    const recall = await b.api('GET', '/recall?q=sqlite')
    expect(recall.body.results[0].label).toBe(`peer:${idA}:decision:db`)
    expect(recall.body.results[0].peer).toBe(idA)
    expect((await b.api('GET', '/recall?q=zebras')).body.results).toEqual([])

    const peers = await b.api('GET', '/peer/peers')
    expect(peers.body.summary).toBe('1 ready · 0 handshake-pending')
    expect(peers.body.peers[0]).toMatchObject({ id: idA, status: 'ready', memories: 2, last_error: null })
    expect(peers.body.peers[0].last_sync_at).toBeString()

    // A second pull fetches nothing new.
    expect((await syncNow(b))[0]).toMatchObject({ ok: true, fetched: 0 })
  })

  test('a peer added without a URL is handshake-pending', async () => {
    await using pods = await spawnPods(2)
    const [a, b] = pods
    const hs = (await identityOf(b)).handshake_url
    const res = await a.api('POST', '/peer/add', { handshake_url: hs })
    expect(res.status).toBe(201)
    expect(res.body.peer.status).toBe('handshake-pending')
    expect(res.body.peer.hint).toContain('no URL for it yet: set a URL with `mazemaker peer set')
    expect((await a.api('GET', '/peer/peers')).body.summary).toBe('0 ready · 1 handshake-pending')
    // SET URL fixes it: then it waits for b to add a (awaiting-peer), and both pasted is ready.
    const set = await a.api('PATCH', `/peer/peers/${res.body.peer.id}`, { url: b.url })
    expect(set.body.peer.status).toBe('awaiting-peer')
    // Asked for this one peer, the answer carries its state after the pull too.
    const waiting = (await syncNow(a, res.body.peer.id))[0]
    expect(waiting).toMatchObject({ ok: false, error: 'unauthorized', status: 'awaiting-peer' })
    expect((waiting as { hint?: string }).hint).toBeString()
    await addPeer(b, a)
    expect((await syncNow(a, res.body.peer.id))[0]).toMatchObject({ ok: true, status: 'ready', hint: null })
    expect((await syncNow(a))[0]).toMatchObject({ ok: true, status: 'ready', hint: null })
  })
})

describe('the gate', () => {
  test('scope "*" still gets nothing private, nothing AES:, nothing peer:, and no transitive leak', async () => {
    await using pods = await spawnPods(3)
    const [a, b, c] = pods
    const idA = (await identityOf(a)).pod_id
    const idB = (await identityOf(b)).pod_id
    await pair(a, b, { scope: '*' })
    await pair(b, c, { scope: '*' })

    await remember(a, 'public:one', 'shared one')
    await remember(a, 'secret:two', 'private two')
    await remember(a, 'public:three', 'AES:looks like ciphertext')
    await remember(b, 'public:bee', 'b authored this')

    await syncNow(b)
    expect(await copiesFrom(b, idA)).toEqual([`peer:${idA}:public:one`])
    await syncNow(c)
    // C sees what B authored, never B's copies of A's memories.
    const all = (await c.api('GET', '/memories?limit=500')).body.memories.map((m: { label: string }) => m.label)
    expect(all).toEqual([`peer:${idB}:public:bee`])
  })
})

describe('changes propagate', () => {
  test('updates overwrite, deletes remove, re-labelling as private removes', async () => {
    await using pods = await spawnPods(2)
    const [a, b] = pods
    const idA = (await identityOf(a)).pod_id
    await pair(a, b, { scope: '*' })
    const keep = await remember(a, 'public:keep', 'version 1')
    const gone = await remember(a, 'public:gone', 'to be deleted')
    const hide = await remember(a, 'public:hide', 'to become private')
    await syncNow(b)
    expect(await copiesFrom(b, idA)).toHaveLength(3)

    expect((await a.api('PATCH', `/memories/${keep}`, { content: 'version 2' })).status).toBe(200)
    expect((await a.api('DELETE', `/memories/${gone}`)).status).toBe(204)
    expect((await a.api('PATCH', `/memories/${hide}`, { label: 'private:hide' })).status).toBe(200)
    const r = (await syncNow(b))[0]!
    expect(r).toMatchObject({ ok: true, deleted: 2 })
    expect(await copiesFrom(b, idA)).toEqual([`peer:${idA}:public:keep`])
    const copy = (await b.api('GET', `/memories?prefix=${encodeURIComponent(`peer:${idA}:public:keep`)}`)).body.memories[0]
    expect(copy.content).toBe('version 2')
  })
})

describe('hub and spoke', () => {
  test('a hub write reaches every leaf; leaves see each other only through what the hub authored', async () => {
    await using pods = await spawnPods(4)
    const [hub, ...leaves] = pods
    const idHub = (await identityOf(hub!)).pod_id
    for (const leaf of leaves) await pair(hub!, leaf)
    await remember(hub!, 'public:master', 'from the hub')
    await remember(leaves[0]!, 'public:leaf0', 'from leaf 0')
    await syncNow(hub!)
    for (const leaf of leaves) {
      await syncNow(leaf)
      expect(await copiesFrom(leaf, idHub)).toEqual([`peer:${idHub}:public:master`])
    }
    const labels = (await leaves[1]!.api('GET', '/memories?limit=500')).body.memories.map((m: { label: string }) => m.label)
    expect(labels.some((l: string) => l.includes('leaf0'))).toBe(false)
  })
})

describe('revocation and pausing', () => {
  async function pairedWithData() {
    const pods = await spawnPods(2)
    const [a, b] = pods
    const idA = (await identityOf(a)).pod_id
    const idB = (await identityOf(b)).pod_id
    await pair(a, b)
    await remember(a, 'public:x', 'x')
    expect((await syncNow(b))[0]!.ok).toBe(true)
    return { a, b, idA, idB, [Symbol.asyncDispose]: pods[Symbol.asyncDispose] }
  }

  test('deleting only the key file refuses the next request, no restart', async () => {
    await using paired = await pairedWithData()
    const { a, b, idB } = paired
    rmSync(join(a.home, 'peer-keys', 'peers', `${idB}.key`))
    const r = (await syncNow(b))[0]!
    expect(r).toMatchObject({ ok: false, error: 'unauthorized' })
    expect((await a.api('GET', '/peer/peers')).body.peers[0].status).toBe('revoked')
  })

  test('deleting only the table refuses the next request, no restart', async () => {
    await using paired = await pairedWithData()
    const { a, b } = paired
    writeFileSync(join(a.home, 'peers.toml'), '', { mode: 0o600 })
    expect((await syncNow(b))[0]).toMatchObject({ ok: false, error: 'unauthorized' })
    expect((await b.api('GET', '/peer/peers')).body.peers[0].status).toBe('error')
  })

  test('peer remove via the CLI refuses the next request; --purge deletes the copies', async () => {
    await using paired = await pairedWithData()
    const { a, b, idA, idB } = paired
    const out = await runCli(['peer', 'remove', idB.slice(0, 8), '--home', a.home, '--port', new URL(a.url).port])
    expect(out.code).toBe(0)
    expect((await syncNow(b))[0]).toMatchObject({ ok: false, error: 'unauthorized' })
    const purge = await runCli(['peer', 'remove', idA, '--purge', '--home', b.home, '--port', new URL(b.url).port])
    expect(purge.code).toBe(0)
    expect(await copiesFrom(b, idA)).toEqual([])
  })

  test('pausing stops our pulls while inbound is still served', async () => {
    await using paired = await pairedWithData()
    const { a, b, idA } = paired
    const patch = await b.api('PATCH', `/peer/peers/${idA}`, { sync: false })
    expect(patch.body.peer.status).toBe('paused')
    await remember(a, 'public:later', 'after pause')
    expect((await syncNow(b))[0]).toMatchObject({ ok: false, error: 'paused' })
    expect(await copiesFrom(b, idA)).toEqual([`peer:${idA}:public:x`])
    // A can still pull from B.
    expect((await syncNow(a))[0]!.ok).toBe(true)
    await b.api('PATCH', `/peer/peers/${idA}`, { sync: true })
    await syncNow(b)
    expect(await copiesFrom(b, idA)).toHaveLength(2)
  })

  test('narrowing the scope drops the copies that no longer match on the next pull', async () => {
    await using pods = await spawnPods(2)
    const [a, b] = pods
    const idA = (await identityOf(a)).pod_id
    await pair(a, b, { scope: '*' })
    await remember(a, 'public:p', 'p')
    await remember(a, 'decision:d', 'd')
    await syncNow(b)
    expect(await copiesFrom(b, idA)).toHaveLength(2)
    await b.api('PATCH', `/peer/peers/${idA}`, { scope: 'decision:*' })
    await syncNow(b)
    expect(await copiesFrom(b, idA)).toEqual([`peer:${idA}:decision:d`])
    // Widening again brings it back.
    await b.api('PATCH', `/peer/peers/${idA}`, { scope: '*' })
    await syncNow(b)
    expect(await copiesFrom(b, idA)).toHaveLength(2)
  })

  test('hand edits of peers.toml are picked up; a broken file is reported, kept, and never overwritten', async () => {
    await using paired = await pairedWithData()
    const { a, b, idA } = paired
    const path = join(b.home, 'peers.toml')
    const good = readFileSync(path, 'utf8')
    writeFileSync(path, good.replace('sync = true', 'sync = false'), { mode: 0o600 })
    expect((await b.api('GET', '/peer/peers')).body.peers[0].status).toBe('paused')
    writeFileSync(path, '[peers.\nbroken', { mode: 0o600 })
    const listed = await b.api('GET', '/peer/peers')
    expect(listed.status).toBe(200)
    expect(listed.body.error).toContain('peers.toml')
    expect(listed.body.peers).toHaveLength(1) // last good copy
    const patch = await b.api('PATCH', `/peer/peers/${idA}`, { sync: true })
    expect(patch.status).toBe(409)
    expect(readFileSync(path, 'utf8')).toBe('[peers.\nbroken')
    expect(b.logs()).toContain('peers.toml')
    void a
  })
})
