/**
 * The MCP tools as an agent sees them over Streamable HTTP with the official SDK client:
 * annotations, input limits, structured output, the pod's real public prefixes in the words the
 * agent reads, the share preview against what /peer/sync's feed serves, and the context resource.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import type { Pod } from '../../src/pod'
import { httpClient, prepareHome, removeHome, startTestPod } from './_mcp-pod'

const PREFIXES = ['team:', 'decision:']
const MAX_BYTES = 2048
let home: string
let pod: Pod
let client: Client

beforeAll(async () => {
  home = await prepareHome({ prefixes: PREFIXES, maxContentBytes: MAX_BYTES })
  pod = await startTestPod(home)
  client = await httpClient(pod, home)
}, 30_000)
afterAll(async () => {
  await client?.close()
  await pod?.close()
  removeHome(home)
})

type Structured = Record<string, any>
async function call(name: string, args: Record<string, unknown> = {}): Promise<Structured> {
  const res = await client.callTool({ name, arguments: args })
  if (res.isError) throw new Error(`${name} failed: ${JSON.stringify(res.content)}`)
  expect(res.structuredContent).toBeDefined()
  // The text block carries the same JSON for clients that ignore structured output.
  expect(JSON.parse((res.content as { text: string }[])[0]!.text)).toEqual(res.structuredContent as Structured)
  return res.structuredContent as Structured
}

describe('tool definitions', () => {
  test('every tool has annotations and an output schema; hints match what the tool does', async () => {
    const { tools } = await client.listTools()
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]))
    expect(Object.keys(byName).sort()).toEqual([
      'mazemaker_forget',
      'mazemaker_peers',
      'mazemaker_recall',
      'mazemaker_remember',
      'mazemaker_share_preview',
      'mazemaker_stats',
    ])
    for (const t of tools) {
      expect(t.outputSchema?.type).toBe('object')
      expect(t.annotations).toBeDefined()
    }
    expect(byName.mazemaker_recall!.annotations).toMatchObject({ readOnlyHint: true, idempotentHint: true })
    expect(byName.mazemaker_share_preview!.annotations).toMatchObject({ readOnlyHint: true })
    expect(byName.mazemaker_forget!.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true, idempotentHint: true })
    expect(byName.mazemaker_remember!.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: false, idempotentHint: false })
  })

  test("remember's description and the server instructions name this pod's public prefixes and say they are shared", async () => {
    const { tools } = await client.listTools()
    const remember = tools.find((t) => t.name === 'mazemaker_remember')!
    for (const p of PREFIXES) expect(remember.description).toContain(`"${p}"`)
    expect(remember.description).not.toContain('"public:"')
    expect(remember.description).toMatch(/SHARED: every paired peer pod receives a copy/)
    const instructions = client.getInstructions()!
    for (const p of PREFIXES) expect(instructions).toContain(`"${p}"`)
    expect(instructions).toMatch(/shared with every paired peer pod/)
  })

  test('input schemas carry the limits: label length and rules, content size from pod.toml', async () => {
    const { tools } = await client.listTools()
    const input = tools.find((t) => t.name === 'mazemaker_remember')!.inputSchema as any
    expect(input.properties.label.maxLength).toBe(256)
    expect(input.properties.content.maxLength).toBe(MAX_BYTES)
    expect(input.required.sort()).toEqual(['content', 'label'])
  })
})

describe('tool calls', () => {
  test('remember says whether a memory is shared; bad labels and oversized content are tool errors that say why', async () => {
    const shared = await call('mazemaker_remember', { label: 'team:standup', content: 'we ship on thursdays' })
    expect(shared).toMatchObject({ label: 'team:standup', encrypted: false, shared: true })
    const priv = await call('mazemaker_remember', { label: 'public:diary', content: 'not a prefix on this pod' })
    expect(priv).toMatchObject({ encrypted: true, shared: false })

    for (const args of [
      { label: 'peer:x:y', content: 'z' },
      { label: 'a\u0007b', content: 'z' },
      { label: 'x'.repeat(257), content: 'z' },
      { label: 'team:big', content: 'é'.repeat(MAX_BYTES / 2 + 1) }, // under the char limit, over the byte limit
    ]) {
      const res = await client.callTool({ name: 'mazemaker_remember', arguments: args })
      expect(res.isError).toBe(true)
    }
    const big = await client.callTool({ name: 'mazemaker_remember', arguments: { label: 'team:big', content: 'é'.repeat(MAX_BYTES / 2 + 1) } })
    expect(JSON.stringify(big.content)).toContain(`${MAX_BYTES} bytes`)
  })

  test('recall, stats, peers and forget answer with structured content', async () => {
    const { id } = await call('mazemaker_remember', { label: 'decision:queue', content: 'use a durable quokka queue' })
    const recalled = await call('mazemaker_recall', { query: 'quokka', k: 5 })
    expect(recalled.results[0]).toMatchObject({ id, label: 'decision:queue', peer: null })
    const stats = await call('mazemaker_stats')
    expect(stats.memories).toBeGreaterThan(0)
    const peers = await call('mazemaker_peers')
    expect(peers).toMatchObject({ peers: [], error: null })
    expect(await call('mazemaker_forget', { id })).toEqual({ id, deleted: true })
    expect(await call('mazemaker_forget', { id })).toEqual({ id, deleted: false })
    expect((await call('mazemaker_recall', { query: 'quokka' })).results).toEqual([])
  })
})

describe('mazemaker_share_preview', () => {
  test('lists exactly what the feed serves for the scope: no private, no forgotten, no out-of-scope memory', async () => {
    const kept = await call('mazemaker_remember', { label: 'team:preview-kept', content: 'visible to peers' })
    const gone = await call('mazemaker_remember', { label: 'team:preview-gone', content: 'forgotten soon' })
    await call('mazemaker_forget', { id: gone.id })
    await call('mazemaker_remember', { label: 'note:preview-private', content: 'mine only' })
    await call('mazemaker_remember', { label: 'decision:preview', content: 'a decision' })

    const all = await call('mazemaker_share_preview', { scope: ['*'], limit: 100 })
    const feed = pod.store.changesSince(null, ['*'], 1000).memories.filter((m) => !('deleted' in m))
    expect(all.total).toBe(feed.length)
    expect(all.memories.map((m: { id: string }) => m.id).sort()).toEqual(feed.map((m) => m.id).sort())
    const labels = all.memories.map((m: { label: string }) => m.label)
    expect(labels).toContain('team:preview-kept')
    expect(labels).not.toContain('team:preview-gone')
    expect(labels).not.toContain('note:preview-private')
    expect(all.public_prefixes).toEqual(PREFIXES)
    expect(all.by_prefix['team:']).toBe(labels.filter((l: string) => l.startsWith('team:')).length)

    const teamOnly = await call('mazemaker_share_preview', { scope: ['team:*'], limit: 1 })
    expect(teamOnly.memories).toHaveLength(1)
    expect(teamOnly.truncated).toBe(true)
    expect(Object.keys(teamOnly.by_prefix)).toEqual(['team:'])
    // Newest first: the forgotten one is a tombstone now, so the kept one is the latest served.
    expect(teamOnly.memories[0].id).toBe(kept.id)

    // The default scope is what a newly paired peer asks for: *, everything the gate lets out.
    const byDefault = await call('mazemaker_share_preview', { limit: 100 })
    expect(byDefault).toMatchObject({ scope: ['*'], total: all.total })
    // A peer narrowed to public:* would receive none of these.
    expect(await call('mazemaker_share_preview', { scope: ['public:*'] })).toMatchObject({ total: 0, memories: [] })
  })
})

describe('context resource', () => {
  test('mazemaker://context lists recent work; the project template recalls by the project name', async () => {
    await call('mazemaker_remember', { label: 'decision:zebrafish-api', content: 'zebrafish service talks gRPC' })
    const { resources } = await client.listResources()
    expect(resources.map((r) => r.uri)).toContain('mazemaker://context')
    const plain = await client.readResource({ uri: 'mazemaker://context' })
    const text = (plain.contents[0] as { text: string }).text
    expect(text).toContain('## Recent work')
    expect(text).toContain('zebrafish service talks gRPC')
    const named = await client.readResource({ uri: 'mazemaker://context/zebrafish' })
    const namedText = (named.contents[0] as { text: string }).text
    expect(namedText).toMatch(/## Relevant to this project \(zebrafish\)\n- \[decision:zebrafish-api\]/)
  })
})

describe('reused servers', () => {
  test('many calls at once from several clients each get their own answer', async () => {
    const clients = [client, await httpClient(pod, home), await httpClient(pod, home)]
    try {
      const calls = Array.from({ length: 60 }, (_, i) =>
        clients[i % 3]!.callTool({ name: 'mazemaker_remember', arguments: { label: `team:burst-${i}`, content: `burst ${i}` } }),
      )
      const results = await Promise.all(calls)
      expect(results.map((r) => (r.structuredContent as { label: string }).label)).toEqual(Array.from({ length: 60 }, (_, i) => `team:burst-${i}`))
      const found = await Promise.all(
        Array.from({ length: 30 }, (_, i) => clients[i % 3]!.callTool({ name: 'mazemaker_recall', arguments: { query: `burst-${i}`, k: 1 } })),
      )
      found.forEach((r, i) => expect((r.structuredContent as { results: { label: string }[] }).results[0]!.label).toBe(`team:burst-${i}`))
    } finally {
      await clients[1]!.close()
      await clients[2]!.close()
    }
  })
})
