/**
 * Plain tools/call requests are answered from the tool table without the SDK server's request
 * path. Its answers must be the SDK server's answers, byte for byte, for every tool and for tool
 * errors; every request the SDK words differently (anything but the plain shape) must be left to it.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js'
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js'
import { BadInput } from '../../src/lib/errors'
import { directToolCalls } from '../../src/mcp/direct-calls'
import { toolTable } from '../../src/mcp/tool-table'
import { createMcpServer, type McpDeps } from '../../src/mcp/tools'
import type { Pod } from '../../src/pod'
import { prepareHome, removeHome, startTestPod } from './_mcp-pod'

let home: string
let pod: Pod
beforeAll(async () => {
  home = await prepareHome({ prefixes: ['team:'] })
  pod = await startTestPod(home)
}, 30_000)
afterAll(async () => {
  await pod?.close()
  removeHome(home)
})

const depsOver = (store: McpDeps['store']): McpDeps => ({
  store,
  peersOverview: () => ({ peers: [], summary: 'no peers', error: null }),
  publicPrefixes: ['team:'],
  maxContentBytes: 4096,
  version: '0.0.0-test',
})

/** The SDK server's raw answer to one message (the server built from the same table). */
async function viaSdk(deps: McpDeps, message: JSONRPCMessage): Promise<JSONRPCMessage> {
  const [client, server] = InMemoryTransport.createLinkedPair()
  const mcp = createMcpServer(deps, toolTable(deps))
  await mcp.connect(server)
  const answer = new Promise<JSONRPCMessage>((resolve) => (client.onmessage = resolve))
  await client.start()
  await client.send(message)
  try {
    return await answer
  } finally {
    await mcp.close()
  }
}

const call = (id: number | string, name: string, args?: Record<string, unknown>): JSONRPCMessage => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: args === undefined ? { name } : { name, arguments: args },
})
/** Ids of new memories differ between two writes; everything else must not. */
const sameBytes = (m: JSONRPCMessage) => JSON.stringify(m).replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>')

async function expectSameAnswer(deps: McpDeps, message: JSONRPCMessage): Promise<void> {
  const direct = directToolCalls(toolTable(deps))(message)
  expect(direct).not.toBeNull()
  expect(sameBytes(await direct!)).toBe(sameBytes(await viaSdk(deps, message)))
}

describe('answers as the SDK server answers', () => {
  test('every tool, with numeric and string ids', async () => {
    const deps = depsOver(pod.store)
    await expectSameAnswer(deps, call(1, 'mazemaker_remember', { label: 'team:direct', content: 'the quokka ledger' }))
    await expectSameAnswer(deps, call('r', 'mazemaker_remember', { label: 'note:direct', content: 'private quokka', extra: 'ignored' }))
    await expectSameAnswer(deps, call(2, 'mazemaker_recall', { query: 'quokka', k: 1 }))
    await expectSameAnswer(deps, call(3, 'mazemaker_forget', { id: '01a24d09-2be4-76ff-99fb-265e1a5669b9' }))
    await expectSameAnswer(deps, call(4, 'mazemaker_stats'))
    await expectSameAnswer(deps, call(5, 'mazemaker_stats', { ignored: true }))
    await expectSameAnswer(deps, call(6, 'mazemaker_peers', {}))
    await expectSameAnswer(deps, call(7, 'mazemaker_share_preview', { scope: ['team:*'], limit: 5 }))
    const withProgressToken = call(8, 'mazemaker_stats', {}) as { params: Record<string, unknown> }
    withProgressToken.params._meta = { progressToken: 'p-1' }
    await expectSameAnswer(deps, withProgressToken as JSONRPCMessage)
  })

  test("the store's refusal and an unexpected failure become the same tool errors", async () => {
    const refusing = depsOver({
      ...pod.store,
      forget: () => {
        throw new BadInput('not this one')
      },
    })
    await expectSameAnswer(refusing, call(8, 'mazemaker_forget', { id: '01a24d09-2be4-76ff-99fb-265e1a5669b9' }))
    const failing = depsOver({
      ...pod.store,
      stats: () => {
        throw new Error('the disk went away')
      },
    })
    await expectSameAnswer(failing, call(9, 'mazemaker_stats'))
  })
})

describe('left to the SDK server', () => {
  test('anything but a plain call of a tool of the table with arguments its schema accepts', async () => {
    const direct = directToolCalls(toolTable(depsOver(pod.store)))
    const taken = (label: string) => ({ name: 'mazemaker_remember', arguments: { label, content: 'y' } })
    const answered = [
      direct({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: taken('team:taken-1') }),
      direct({ jsonrpc: '2.0', id: 'a', method: 'tools/call', params: { ...taken('team:taken-2'), _meta: { progressToken: 7 } } }),
    ]
    expect(answered).not.toContain(null)
    await Promise.all(answered)
    const remember = taken('team:x')
    for (const message of [
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { ...remember, name: 'mazemaker_nope' } },
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { ...remember, arguments: { label: 'peer:x', content: 'y' } } },
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { ...remember, arguments: ['team:x', 'y'] } },
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { ...remember, _meta: { progressToken: 1.5 } } },
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { ...remember, _meta: { 'io.modelcontextprotocol/related-task': { taskId: 't' } } } },
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { ...remember, _meta: 'x' } },
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { ...remember, task: { ttl: 1000 } } },
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: remember, extra: true },
      { jsonrpc: '2.0', id: 1.5, method: 'tools/call', params: remember },
      { jsonrpc: '2.0', id: null, method: 'tools/call', params: remember },
      { jsonrpc: '2.0', method: 'tools/call', params: remember },
      { jsonrpc: '1.0', id: 1, method: 'tools/call', params: remember },
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      { jsonrpc: '2.0', id: 1, method: 'tools/call' },
      [{ jsonrpc: '2.0', id: 1, method: 'tools/call', params: remember }],
    ]) {
      expect(direct(message)).toBeNull()
    }
    const written = pod.store.list({ prefix: 'team:' }).memories.map((m) => m.label)
    expect(written).toContain('team:taken-2')
    expect(written).not.toContain('team:x')
  })
})
