/**
 * The local API of a real pod process: admin token on every route but /healthz (also from
 * loopback, with or without X-Forwarded-For), memory round trips, clear 4xx, durability under
 * kill -9, and an MCP round trip with the official SDK client.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { cleanup, spawnPod, type PodProcess } from '../helpers/pod-process'

let pod: PodProcess

beforeAll(async () => {
  pod = await spawnPod()
})
afterAll(async () => {
  await cleanup([pod])
})

// Every row has three cells: bun's test.each treats a missing argument as a `done` callback.
const ADMIN_ROUTES: [string, string, unknown][] = [
  ['GET', '/peer/identity', undefined],
  ['POST', '/peer/add', { handshake_url: 'x' }],
  ['GET', '/peer/peers', undefined],
  ['PATCH', '/peer/peers/6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f', { sync: false }],
  ['DELETE', '/peer/peers/6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f', undefined],
  ['POST', '/peer/sync-now', {}],
  ['POST', '/memories', { label: 'public:x', content: 'y' }],
  ['GET', '/memories', undefined],
  ['GET', '/memories/0190f2a0-0000-7000-8000-000000000000', undefined],
  ['PATCH', '/memories/0190f2a0-0000-7000-8000-000000000000', { content: 'x' }],
  ['DELETE', '/memories/0190f2a0-0000-7000-8000-000000000000', undefined],
  ['GET', '/recall?q=x', undefined],
  ['POST', '/mcp', { jsonrpc: '2.0', id: 1, method: 'tools/list' }],
  ['GET', '/status', undefined],
  ['GET', '/metrics', undefined],
]

describe('admin token', () => {
  test('/healthz needs none and holds no secrets', async () => {
    const res = await fetch(pod.url + '/healthz')
    expect(res.status).toBe(200)
    const body = (await res.json()) as Record<string, unknown>
    expect(body.ok).toBe(true)
    expect(Object.keys(body).sort()).toEqual(['ok', 'pod_id', 'version'])
  })

  for (const xff of [undefined, '127.0.0.1', '203.0.113.9']) {
    test.each(ADMIN_ROUTES)(`%s %s is refused without the token (X-Forwarded-For: ${xff ?? 'absent'})`, async (method, path, body) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' }
      if (xff) headers['x-forwarded-for'] = xff
      const res = await fetch(pod.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
      expect(res.status).toBe(401)
      expect(((await res.json()) as { error: string }).error).toBe('unauthorized')
    })
  }

  test('a wrong token and a pair-style token are refused', async () => {
    for (const auth of [
      'Bearer nope',
      `Bearer ${pod.token()}x`,
      'Bearer mzm1.6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f.1.AAAAAAAAAAAAAAAAAAAAAA.' + 'A'.repeat(43),
      pod.token(),
    ]) {
      const res = await fetch(pod.url + '/memories', { headers: { authorization: auth } })
      expect(res.status).toBe(401)
    }
  })
})

describe('memories', () => {
  test('remember, get, list, recall, forget', async () => {
    const pub = await pod.api('POST', '/memories', { label: 'public:greeting', content: 'hello from the pod' })
    expect(pub.status).toBe(201)
    expect(pub.body.encrypted).toBe(false)
    const priv = await pod.api('POST', '/memories', { label: 'note:secret', content: 'the vault hides pineapples' })
    expect(priv.status).toBe(201)
    expect(priv.body.encrypted).toBe(true)

    const got = await pod.api('GET', `/memories/${priv.body.id}`)
    expect(got.body.content).toBe('the vault hides pineapples')

    const list = await pod.api('GET', '/memories?prefix=public:')
    expect(list.body.memories.map((m: { id: string }) => m.id)).toContain(pub.body.id)

    const recall = await pod.api('GET', '/recall?q=pineapples')
    expect(recall.body.results[0]).toMatchObject({ id: priv.body.id, encrypted: true, peer: null })

    expect((await pod.api('DELETE', `/memories/${priv.body.id}`)).status).toBe(204)
    expect((await pod.api('GET', `/memories/${priv.body.id}`)).status).toBe(404)
    expect((await pod.api('DELETE', `/memories/${priv.body.id}`)).status).toBe(404)
  })

  test.each([
    [{ label: '', content: 'x' }, 'label'],
    [{ label: 'a'.repeat(257), content: 'x' }, 'label'],
    [{ label: 'public:x', content: '' }, 'content'],
    [{ label: 'bad\nlabel', content: 'x' }, 'label'],
    [{ label: 'peer:6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f:x', content: 'x' }, 'peer:'],
    [{ label: 'public:x', content: 'x', extra: 1 }, 'extra'],
  ])('bad input %j → 400 naming %s', async (body, word) => {
    const res = await pod.api('POST', '/memories', body)
    expect(res.status).toBe(400)
    expect(res.body.error).toBe('bad_input')
    expect(res.body.message).toContain(word)
  })

  test('non-JSON body → 400, oversized content → 413, unknown route → 404 JSON', async () => {
    const res = await fetch(pod.url + '/memories', { method: 'POST', headers: { authorization: `Bearer ${pod.token()}` }, body: 'label=x' })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { message: string }).message).toContain('application/json')
    const big = await pod.api('POST', '/memories', { label: 'public:big', content: 'x'.repeat(64 * 1024 + 1) })
    expect(big.status).toBe(413)
    const huge = await pod.api('POST', '/memories', { label: 'public:huge', content: 'x'.repeat(2 * 1024 * 1024) })
    expect(huge.status).toBe(413)
    const missing = await pod.api('GET', '/nope')
    expect(missing.status).toBe(404)
    expect(missing.body.error).toBe('not_found')
  })
})

describe('durability', () => {
  test('every acknowledged write survives kill -9 and a restart', async () => {
    const victim = await spawnPod()
    const ids: string[] = []
    try {
      // Fire writes concurrently and kill the process while some are still in flight.
      const writes = Array.from({ length: 2000 }, (_, i) =>
        victim
          .api('POST', '/memories', { label: i % 2 ? `public:k${i}` : `note:k${i}`, content: `durable ${i}` })
          .then((r) => {
            if (r.status === 201) ids.push(r.body.id)
          })
          .catch(() => undefined),
      )
      // Kill once some writes are acknowledged and others are still in flight.
      for (let i = 0; i < 5000 && ids.length < 20; i++) await Bun.sleep(1)
      await victim.kill9()
      await Promise.all(writes)
      expect(ids.length).toBeGreaterThan(0)
      expect(ids.length).toBeLessThan(2000) // the kill really came mid-flight
      const again = await spawnPod({ home: victim.home })
      try {
        for (const id of ids) expect((await again.api('GET', `/memories/${id}`)).status).toBe(200)
      } finally {
        await again.stop()
      }
    } finally {
      await cleanup([victim])
    }
  })
})

describe('MCP', () => {
  test('round trip with the official SDK client', async () => {
    const transport = new StreamableHTTPClientTransport(new URL(pod.url + '/mcp'), {
      requestInit: { headers: { authorization: `Bearer ${pod.token()}` } },
    })
    const client = new Client({ name: 'test', version: '1.0.0' })
    await client.connect(transport)
    try {
      const tools = await client.listTools()
      expect(tools.tools.map((t) => t.name).sort()).toEqual([
        'mazemaker_forget',
        'mazemaker_peers',
        'mazemaker_recall',
        'mazemaker_remember',
        'mazemaker_share_preview',
        'mazemaker_stats',
      ])
      const remembered = await client.callTool({ name: 'mazemaker_remember', arguments: { label: 'decision:mcp', content: 'use the official sdk' } })
      const { id } = JSON.parse((remembered.content as { text: string }[])[0]!.text)
      const recalled = await client.callTool({ name: 'mazemaker_recall', arguments: { query: 'official sdk' } })
      expect(JSON.parse((recalled.content as { text: string }[])[0]!.text).results[0].id).toBe(id)
      const stats = await client.callTool({ name: 'mazemaker_stats', arguments: {} })
      expect(JSON.parse((stats.content as { text: string }[])[0]!.text).memories).toBeGreaterThan(0)
      const bad = await client.callTool({ name: 'mazemaker_remember', arguments: { label: 'peer:x:y', content: 'z' } })
      expect(bad.isError).toBe(true)
      const forgot = await client.callTool({ name: 'mazemaker_forget', arguments: { id } })
      expect(JSON.parse((forgot.content as { text: string }[])[0]!.text).deleted).toBe(true)
      const peers = await client.callTool({ name: 'mazemaker_peers', arguments: {} })
      expect(JSON.parse((peers.content as { text: string }[])[0]!.text).summary).toBe('0 ready · 0 handshake-pending')
    } finally {
      await client.close()
    }
  })
})

describe('secrets stay put', () => {
  function filesUnder(dir: string): string[] {
    const { readdirSync, statSync } = require('node:fs') as typeof import('node:fs')
    return readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .map((f) => `${dir}/${f}`)
      .filter((f) => statSync(f).isFile())
  }

  test("a private memory's plaintext is in no file of the home, before and after the WAL checkpoint", async () => {
    const p = await spawnPod()
    try {
      const word = 'xylophonequartzmarmalade'
      expect((await p.api('POST', '/memories', { label: 'diary:today', content: `my secret ${word}` })).status).toBe(201)
      expect((await p.api('POST', '/memories', { label: 'public:today', content: 'visible marker bananaphone' })).status).toBe(201)
      const scan = (needle: string) => filesUnder(p.home).filter((f) => Buffer.from(require('node:fs').readFileSync(f)).includes(needle))
      expect(scan(word)).toEqual([])
      expect(scan('bananaphone').length).toBeGreaterThan(0) // the scan can find things
      expect(await p.stop()).toBe(0) // clean shutdown checkpoints the WAL
      expect(scan(word)).toEqual([])
    } finally {
      await cleanup([p])
    }
  })

  test('logs never hold the admin token, a key or private content', async () => {
    // Its own traffic, so the check does not lean on what another test happened to send: a
    // private write, a refused one carrying the content, a wrong token and a bad path.
    const word = 'quinceaubergineharpsichord'
    expect((await pod.api('POST', '/memories', { label: 'diary:log-check', content: `private ${word}` })).status).toBe(201)
    expect((await pod.api('POST', '/memories', { label: 'diary:log-check', content: word, extra: word })).status).toBe(400)
    expect((await fetch(pod.url + '/memories', { headers: { authorization: `Bearer ${pod.token()}x` } })).status).toBe(401)
    expect((await pod.api('GET', `/memories/${word}`)).status).toBe(400)
    const fs = await import('node:fs')
    const secrets = [
      pod.token(),
      fs.readFileSync(`${pod.home}/vault.key`, 'utf8').trim(),
      fs.readFileSync(`${pod.home}/peer-keys/self.key`, 'utf8').trim(),
      word,
    ]
    const logs = pod.logs()
    expect(logs).toContain('op=listen') // the log was captured at all
    for (const s of secrets) expect(logs).not.toContain(s)
  })
})
