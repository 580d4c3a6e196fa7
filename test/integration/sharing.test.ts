/**
 * Sharing you can see, between real pod processes: the share preview is what the peer then
 * receives, the access log records what it received, a credential under a public prefix is held
 * from every peer until released, and the panel's "who receives this" agrees with the feed.
 */
import { describe, expect, test } from 'bun:test'
import { spawnPods } from '../helpers/pod-process'
import { copiesFrom, identityOf, pair, remember, syncNow } from '../helpers/federation'
import { FAKE_SECRETS } from '../store/_fake-secrets'

async function twoPods(scope: string | string[] = 'public:*') {
  const pods = await spawnPods(2)
  const [a, b] = pods
  await pair(a, b, { scope })
  return { a, b, idA: (await identityOf(a)).pod_id, idB: (await identityOf(b)).pod_id, [Symbol.asyncDispose]: pods[Symbol.asyncDispose] }
}

describe('share preview', () => {
  test('shows exactly what the peer then receives, with counts; held memories are left out until released', async () => {
    await using scene = await twoPods(['public:*', 'decision:*'])
    const { a, b, idA, idB } = scene
    const one = await remember(a, 'public:one', 'first')
    const dec = await remember(a, 'decision:db', 'sqlite')
    await remember(a, 'note:private', 'never leaves')
    await remember(a, 'ops:deploy', 'public, outside the scope b asks with')
    const saved = await a.api('POST', '/memories', { label: 'public:ci', content: FAKE_SECRETS['GitHub token'] })
    expect(saved.status).toBe(201)
    expect(saved.body).toMatchObject({ held: true, encrypted: false, warning: expect.stringContaining('held back from every peer') })
    const held = saved.body.id as string

    // Before b ever pulled: the gate alone (scope "*").
    const gateOnly = await a.api('GET', `/peer/peers/${idB}/preview`)
    expect(gateOnly.status).toBe(200)
    expect(gateOnly.body).toMatchObject({ peer: idB, can_pull: true, scope_source: 'gate', scope: ['*'], total: 3, held: 1 })
    expect(gateOnly.body.by_prefix).toEqual({ 'public:': 1, 'decision:': 1, 'ops:': 1 })

    // ops:deploy is outside b's scope: it goes as a tombstone (the feed never says why).
    expect((await syncNow(b))[0]).toMatchObject({ ok: true, fetched: 3, stored: 2 })
    expect(await copiesFrom(b, idA)).toEqual([`peer:${idA}:decision:db`, `peer:${idA}:public:one`])

    // Now the preview uses the scope b asks with, and lists exactly b's copies.
    const preview = await a.api('GET', `/peer/peers/${idB}/preview`)
    expect(preview.body).toMatchObject({ scope_source: 'last_request', scope: ['public:*', 'decision:*'], total: 2, truncated: false })
    expect((preview.body.memories as { id: string }[]).map((m) => m.id).sort()).toEqual([one, dec].sort())
    const asked = await a.api('GET', `/peer/peers/${idB}/preview?scope=ops:*`)
    expect(asked.body).toMatchObject({ scope_source: 'query', scope: ['ops:*'], total: 1 })

    // Who receives what (the panel's column): the held one nobody, the private one nobody.
    const audience = await a.api('POST', '/peer/audience', { ids: [one, held] })
    expect(audience.body.audience).toEqual({ [one]: [idB], [held]: [] })

    // The access log on a: one page of three entries, one a tombstone, in feed order.
    const log = await a.api('GET', `/peer/peers/${idB}/log`)
    expect(log.status).toBe(200)
    expect(log.body.entries).toHaveLength(1)
    expect(log.body.entries[0]).toMatchObject({ count: 3, deleted: 1, first_id: one })
    // An empty poll is not logged.
    expect((await syncNow(b))[0]).toMatchObject({ ok: true, fetched: 0 })
    expect((await a.api('GET', `/peer/peers/${idB}/log`)).body.entries).toHaveLength(1)

    // Held: listed, then released, then received.
    expect((await a.api('GET', '/memories/held')).body.memories.map((m: { id: string }) => m.id)).toEqual([held])
    const released = await a.api('POST', `/memories/${held}/release`)
    expect(released.status).toBe(200)
    expect(released.body.held).toBe(false)
    expect((await syncNow(b))[0]).toMatchObject({ ok: true, fetched: 1, stored: 1 })
    expect(await copiesFrom(b, idA)).toContain(`peer:${idA}:public:ci`)
    const log2 = (await a.api('GET', `/peer/peers/${idB}/log`)).body.entries
    expect(log2[0]).toMatchObject({ count: 1, first_id: held, last_id: held })
  })

  test('unknown peers and bad input get clear errors', async () => {
    await using scene = await twoPods()
    const { a } = scene
    const nobody = '0a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3'
    expect((await a.api('GET', `/peer/peers/${nobody}/preview`)).status).toBe(404)
    expect((await a.api('GET', `/peer/peers/${nobody}/log`)).status).toBe(404)
    expect((await a.api('GET', '/peer/peers/not-an-id/preview')).status).toBe(400)
    expect((await a.api('POST', '/memories/0a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3/release')).status).toBe(404)
    expect((await a.api('POST', '/peer/audience', { ids: ['x'] })).status).toBe(400)
  })
})

describe('secret holds across a pull', () => {
  test('a served memory edited to hold a credential reaches the peer as a deletion', async () => {
    await using scene = await twoPods()
    const { a, b, idA } = scene
    const id = await remember(a, 'public:runbook', 'restart the worker')
    await syncNow(b)
    expect(await copiesFrom(b, idA)).toEqual([`peer:${idA}:public:runbook`])
    const edited = await a.api('PATCH', `/memories/${id}`, { content: `restart with ${FAKE_SECRETS['Slack bot token']}` })
    expect(edited.status).toBe(200)
    expect(edited.body).toMatchObject({ held: true, warning: expect.stringContaining('SLACK_TOKEN') })
    expect((await syncNow(b))[0]).toMatchObject({ ok: true, deleted: 1 })
    expect(await copiesFrom(b, idA)).toEqual([])
  })
})
