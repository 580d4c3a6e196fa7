/**
 * The local API in process (a whole pod, driven through its app's `request()`): the admin token
 * on every route but /healthz (with or without X-Forwarded-For), memory round trips, clear 4xx,
 * and an MCP round trip with the official SDK client. test/integration/local-api.test.ts keeps
 * what needs a real process: the socket, kill -9, files on disk and the process's own log.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { identityOf } from '../helpers/federation'
import { type InProcessPod, inProcessPod } from '../helpers/in-process-pod'

let pod: InProcessPod
/** A second pod, whose handshake URL `pod` adds. */
let other: InProcessPod

beforeAll(async () => {
  ;[pod, other] = await Promise.all([inProcessPod(), inProcessPod()])
})
afterAll(async () => {
  await Promise.all([pod.close(), other.close()])
})

// Every row has three cells: bun's test.each treats a missing argument as a `done` callback.
const ADMIN_ROUTES: [string, string, unknown][] = [
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
  for (const xff of [undefined, '127.0.0.1', '203.0.113.9']) {
    test.each(ADMIN_ROUTES)(`%s %s is refused without the token (X-Forwarded-For: ${xff ?? 'absent'})`, async (method, path, body) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' }
      if (xff) headers['x-forwarded-for'] = xff
      const res = await pod.request(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
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
      const res = await pod.request('/memories', { headers: { authorization: auth } })
      expect(res.status).toBe(401)
    }
  })
})

describe('GET /peer/identity without a token', () => {
  test('answers exactly what the handshake URL carries, and nothing else', async () => {
    await pod.api('PUT', '/peer/advertise', { advertise: ['https://alice-tpad.tail-foo.ts.net'] })
    const res = await pod.request('/peer/identity')
    expect(res.status).toBe(200)
    const body = (await res.json()) as Record<string, unknown>
    expect(Object.keys(body).sort()).toEqual(['handshake_url', 'key', 'name', 'pod_id', 'urls'])
    expect(body.urls).toEqual(['https://alice-tpad.tail-foo.ts.net'])
    const hs = String(body.handshake_url)
    expect(hs).toBe(
      `mzm-handshake://${body.pod_id}?key=${body.key}&name=${encodeURIComponent(String(body.name))}&url=${encodeURIComponent('https://alice-tpad.tail-foo.ts.net')}`,
    )
    expect(JSON.stringify(body)).not.toContain(pod.token())
    await pod.api('PUT', '/peer/advertise', { advertise: [] })
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
    [{ label: 'public:x', content: 'x', created_at: 'last tuesday' }, 'created_at'],
    [{ label: 'public:x', content: 'x', created_at: '1999-01-01T00:00:00Z' }, 'created_at is before 2000'],
    [{ label: 'public:x', content: 'x', created_at: '2999-01-01T00:00:00Z' }, 'created_at is in the future'],
    [{ label: 'public:x', content: 'x', created_at: '2024-01-01T00:00:00Z', updated_at: '2021-02-30T00:00:00Z' }, 'updated_at'],
    [{ label: 'public:x', content: 'x', updated_at: 5 }, 'updated_at'],
  ])('bad input %j → 400 naming %s', async (body, word) => {
    const res = await pod.api('POST', '/memories', body)
    expect(res.status).toBe(400)
    expect(res.body.error).toBe('bad_input')
    expect(res.body.message).toContain(word)
  })

  test('POST /memories keeps given created_at / updated_at (import)', async () => {
    const res = await pod.api('POST', '/memories', {
      label: 'note:old',
      content: 'from 2021',
      created_at: '2021-03-04T05:06:07.089Z',
      updated_at: '2022-01-01T00:00:00.000Z',
    })
    expect(res.status).toBe(201)
    const got = await pod.api('GET', `/memories/${res.body.id}`)
    expect(got.body).toMatchObject({ content: 'from 2021', created_at: '2021-03-04T05:06:07.089Z', updated_at: '2022-01-01T00:00:00.000Z' })
  })

  test('non-JSON body → 400, oversized content → 413, unknown route → 404 JSON', async () => {
    const res = await pod.request('/memories', { method: 'POST', headers: { authorization: `Bearer ${pod.token()}` }, body: 'label=x' })
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

describe('MCP', () => {
  test('round trip with the official SDK client', async () => {
    const transport = new StreamableHTTPClientTransport(new URL(pod.url + '/mcp'), {
      requestInit: { headers: { authorization: `Bearer ${pod.token()}` } },
      // Straight to the app: the SDK's requests never touch a socket.
      fetch: (url, init) => pod.request(new URL(String(url)).pathname, init),
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

describe('adding a peer', () => {
  test.each([
    ['https://example.com/x', 'mzm-handshake://'],
    ['mzm-handshake://../../etc?key=' + 'A'.repeat(43), 'id'],
    ['mzm-handshake://6356DB37-0F1E-4C2A-9D7B-1A2B3C4D5E6F?key=' + 'A'.repeat(43), 'id'],
    ['mzm-handshake://6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f?key=' + 'A'.repeat(42), 'key'],
    ['mzm-handshake://6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f?key=' + 'A'.repeat(44), 'key'],
    ['mzm-handshake://6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f?key=' + '+'.repeat(43), 'key'],
    ['mzm-handshake://6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f', 'key'],
  ])('%s → 400 naming the %s', async (url, part) => {
    const res = await pod.api('POST', '/peer/add', { handshake_url: url })
    expect(res.status).toBe(400)
    expect(res.body.message.toLowerCase()).toContain(part)
  })

  test('our own handshake URL → 400; name or URL with newlines or quotes cannot inject TOML', async () => {
    const [a, b] = [pod, other]
    const own = await identityOf(a)
    const res = await a.api('POST', '/peer/add', { handshake_url: own.handshake_url })
    expect(res.status).toBe(400)
    expect(res.body.message).toContain('own')
    const hs = (await identityOf(b)).handshake_url
    const evil = 'x"\n[peers.6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f]\nurl = "http://evil'
    const r1 = await a.api('POST', '/peer/add', { handshake_url: hs, name: evil })
    const r2 = await a.api('POST', '/peer/add', { handshake_url: hs, direct_url: evil })
    expect(r1.status).toBe(400)
    expect(r2.status).toBe(400)
    const r3 = await a.api('POST', '/peer/add', { handshake_url: hs, name: 'quote " and \\ backslash' })
    expect(r3.status).toBe(201)
    const listed = (await a.api('GET', '/peer/peers')).body
    expect(listed.error ?? null).toBeNull()
    expect(listed.peers).toHaveLength(1)
    expect(listed.peers[0].name).toBe('quote " and \\ backslash')
  })
})
