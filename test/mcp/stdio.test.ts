/**
 * `mazemaker mcp` on stdio with the official SDK client: with a pod running, messages go to that
 * pod over its socket (its /metrics counts them); when the pod stops, the same session carries on
 * over the home's database.
 */
import { afterAll, expect, test } from 'bun:test'
import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { mainCommand, spawnPod, tempHome, testEnv, type PodProcess } from '../helpers/pod-process'

const homes: string[] = []
const pods: PodProcess[] = []
afterAll(async () => {
  for (const p of pods) await p.stop().catch(() => undefined)
  for (const h of homes) rmSync(h, { recursive: true, force: true })
})

async function mcpRequests(pod: PodProcess): Promise<number> {
  const res = await fetch(pod.url + '/metrics', { headers: { authorization: `Bearer ${pod.token()}` } })
  const text = await res.text()
  const m = /mazemaker_http_request_duration_seconds_count\{route="\/mcp",status="2xx"\} (\d+)/.exec(text)
  return m ? Number(m[1]) : 0
}

test('with a pod running the stdio server uses it; when it stops, the session goes on over the home', async () => {
  const root = tempHome('mzm-stdio-')
  homes.push(root)
  const home = join(root, 'home')
  const project = join(root, 'albatross-radar')
  mkdirSync(project)
  const pod = await spawnPod({ home })
  pods.push(pod)

  const transport = new StdioClientTransport({
    command: mainCommand()[0]!,
    args: [...mainCommand().slice(1), 'mcp', '--home', home],
    env: testEnv(),
    cwd: project,
    stderr: 'pipe',
  })
  const client = new Client({ name: 'stdio-test', version: '1.0.0' })
  await client.connect(transport)
  try {
    const before = await mcpRequests(pod)
    const saved = await client.callTool({ name: 'mazemaker_remember', arguments: { label: 'decision:albatross', content: 'albatross radar pings every 5 s' } })
    expect(saved.isError).toBeFalsy()
    expect(await mcpRequests(pod)).toBeGreaterThan(before)
    expect((await pod.api('GET', `/memories/${(saved.structuredContent as { id: string }).id}`)).status).toBe(200)

    // The context resource names the stdio server's project even though the pod cannot see it.
    const ctx = await client.readResource({ uri: 'mazemaker://context' })
    expect(ctx.contents[0]!.uri).toBe('mazemaker://context')
    expect((ctx.contents[0] as { text: string }).text).toContain('## Relevant to this project (albatross radar)\n- [decision:albatross]')

    expect(await pod.stop()).toBe(0)
    const found = await client.callTool({ name: 'mazemaker_recall', arguments: { query: 'albatross' } })
    expect(found.isError).toBeFalsy()
    expect((found.structuredContent as { results: { label: string }[] }).results[0]!.label).toBe('decision:albatross')
    const offline = await client.callTool({ name: 'mazemaker_remember', arguments: { label: 'note:offline', content: 'written while no pod ran' } })
    expect(offline.isError).toBeFalsy()
  } finally {
    await client.close()
  }

  // What the session wrote without a pod is in the home for the next pod.
  const again = await spawnPod({ home })
  pods.push(again)
  const recalled = await again.api('GET', '/recall?q=offline')
  expect(recalled.body.results[0].content).toBe('written while no pod ran')
}, 60_000)
