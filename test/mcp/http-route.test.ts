/**
 * /mcp over real HTTP, below the SDK client: many stateless callers share the pod's one server,
 * so answers must find their own caller even when callers pick the same JSON-RPC id; a plain tool
 * call answered without that server gets the answer the server gives; what the SDK's own
 * transport answers (batches, malformed bodies, wrong headers) stays as it answers it; a
 * stateless pod opens no event stream, so an idle client does not keep asking for one.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Pod } from '../../src/pod'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { adminToken, prepareHome, removeHome, startTestPod } from './_mcp-pod'

let home: string
let pod: Pod
let headers: Record<string, string>

beforeAll(async () => {
  home = await prepareHome()
  pod = await startTestPod(home)
  headers = { authorization: `Bearer ${adminToken(home)}`, accept: 'application/json, text/event-stream', 'content-type': 'application/json' }
}, 30_000)
afterAll(async () => {
  await pod?.close()
  removeHome(home)
})

const post = (body: unknown, extra: Record<string, string> = {}) =>
  fetch(`${pod.url}/mcp`, { method: 'POST', headers: { ...headers, ...extra }, body: typeof body === 'string' ? body : JSON.stringify(body) })

/**
 * A remember call. With `_meta` beyond a progress token in its params it goes through the pod's
 * shared SDK server; a plain one is answered from the tool table directly.
 */
const VIA_SERVER = { _meta: { 'example.com/trace': 'x' } }
const remember = (id: number | string, label: string, via: 'server' | 'plain' = 'server') => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'mazemaker_remember', arguments: { label, content: `written as ${label}` }, ...(via === 'server' ? VIA_SERVER : {}) },
})
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g

describe('one server for every caller', () => {
  test('callers sending the same id at once each get the answer to their own request, under their id', async () => {
    const labels = Array.from({ length: 24 }, (_, i) => `note:caller-${i}`)
    const answers = await Promise.all(labels.map((label, i) => post(remember(i % 2 ? 1 : 'same', label, i % 3 ? 'server' : 'plain')).then((r) => r.json())))
    answers.forEach((answer, i) => {
      expect(answer.id).toBe(i % 2 ? 1 : 'same')
      expect(answer.result.structuredContent.label).toBe(labels[i])
    })
    // Each write happened once.
    const written = pod.store.list({ prefix: 'note:caller-', limit: 100 }).memories.map((m) => m.label)
    expect(written.sort()).toEqual([...labels].sort())
  })

  test('a plain call gets the answer the server gives, byte for byte (new ids aside)', async () => {
    const forget = { name: 'mazemaker_forget', arguments: { id: '01a24d09-2be4-76ff-99fb-265e1a5669b9' } }
    const refused = { name: 'mazemaker_remember', arguments: { label: 'note:x', content: 'é'.repeat(70_000) } }
    for (const [label, params] of [
      ['remember', remember(7, 'note:both-ways', 'plain').params],
      ['forget', forget],
      ['stats', { name: 'mazemaker_stats' }],
      ['refused', refused],
    ] as const) {
      const plain = await (await post({ jsonrpc: '2.0', id: 7, method: 'tools/call', params })).text()
      const served = await (await post({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { ...params, ...VIA_SERVER } })).text()
      expect({ label, answer: plain.replace(UUID, '<id>') }).toEqual({ label, answer: served.replace(UUID, '<id>') })
    }
  })

  test('a notification is accepted with 202 and no body', async () => {
    const res = await post({ jsonrpc: '2.0', method: 'notifications/initialized' })
    expect(res.status).toBe(202)
    expect(await res.text()).toBe('')
  })

  test('a cancel naming an id another caller uses does not stop that caller', async () => {
    const pending = Array.from({ length: 8 }, (_, i) => post(remember(1, `note:not-cancelled-${i}`)).then((r) => r.json()))
    const cancels = Array.from({ length: 8 }, () => post({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } }))
    for (const res of await Promise.all(cancels)) expect(res.status).toBe(202)
    for (const answer of await Promise.all(pending)) expect(answer.result.structuredContent.label).toMatch(/^note:not-cancelled-/)
  })
})

describe('size', () => {
  test('a remember as large as max_content_bytes allows is stored over MCP, as over REST (the SDK transport stops at 4 MiB)', async () => {
    const MiB = 1024 * 1024
    const bigHome = await prepareHome({ maxContentBytes: 6 * MiB })
    const big = await startTestPod(bigHome)
    try {
      const call = (label: string, extra: object = {}) =>
        fetch(`${big.url}/mcp`, {
          method: 'POST',
          headers: { ...headers, authorization: `Bearer ${adminToken(bigHome)}` },
          body: JSON.stringify({
            jsonrpc: '2.0',
            id: 1,
            method: 'tools/call',
            params: { name: 'mazemaker_remember', arguments: { label, content: 'z'.repeat(5 * MiB) }, ...extra },
          }),
        })
      const plain = await call('note:five-mib')
      expect(plain.status).toBe(200)
      expect(((await plain.json()) as { result: { structuredContent: { label: string } } }).result.structuredContent.label).toBe('note:five-mib')
      expect(big.store.list({ prefix: 'note:five-mib' }).memories).toHaveLength(1)
      // A message for the SDK server keeps its transport's refusal.
      expect((await call('note:via-sdk', VIA_SERVER)).status).toBe(413)
    } finally {
      await big.close()
      removeHome(bigHome)
    }
  })
})

describe('what the SDK transport answers', () => {
  test('a batch of two requests gets both answers, in one array', async () => {
    const res = await post([remember(1, 'note:batch-a'), { jsonrpc: '2.0', id: 2, method: 'tools/list' }])
    expect(res.status).toBe(200)
    const answers = (await res.json()) as { id: number; result: Record<string, unknown> }[]
    expect(answers.map((a) => a.id).sort()).toEqual([1, 2])
    expect(answers.find((a) => a.id === 2)!.result.tools).toBeArray()
  })

  test('a body that is not JSON is a JSON-RPC parse error (400)', async () => {
    const res = await post('{"jsonrpc": "2.0", "id": 1,')
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32700)
  })

  test('an object that is no JSON-RPC message is refused (400)', async () => {
    const res = await post({ jsonrpc: '2.0', id: null, method: 7 })
    expect(res.status).toBe(400)
  })

  test('a caller that does not accept event streams is told so (406)', async () => {
    expect((await post(remember(1, 'note:never'), { accept: 'application/json' })).status).toBe(406)
    expect(pod.store.list({ prefix: 'note:never' }).memories).toEqual([])
  })

  test('an unsupported protocol version header is refused (400)', async () => {
    expect((await post(remember(1, 'note:never'), { 'mcp-protocol-version': '1999-01-01' })).status).toBe(400)
  })
})

describe('no event stream', () => {
  test('GET and DELETE are 405 naming POST, as the SDK answers a method it does not serve', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await fetch(`${pod.url}/mcp`, { method, headers })
      expect(res.status).toBe(405)
      expect(res.headers.get('allow')).toBe('POST')
      expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32000)
    }
  })

  test("the SDK client's stream request is refused with 405, which it takes as no stream and never retries", async () => {
    const streamAnswers: number[] = []
    let streamAnswered!: () => void
    const answered = new Promise<void>((resolve) => (streamAnswered = resolve))
    const transport = new StreamableHTTPClientTransport(new URL(`${pod.url}/mcp`), {
      requestInit: { headers: { authorization: headers.authorization! } },
      // A stream that ends is re-opened after this delay (1 s by default): an idle client then asks every second.
      reconnectionOptions: { initialReconnectionDelay: 1, maxReconnectionDelay: 1, reconnectionDelayGrowFactor: 1, maxRetries: 1000 },
      fetch: async (url, init) => {
        const res = await fetch(url, init)
        if (init?.method === 'GET') {
          streamAnswers.push(res.status)
          streamAnswered()
        }
        return res
      },
    })
    const client = new Client({ name: 'idle', version: '1.0.0' })
    await client.connect(transport)
    try {
      await answered
      await client.listTools()
      expect(streamAnswers).toEqual([405])
    } finally {
      await client.close()
    }
  })
})
