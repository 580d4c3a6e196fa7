/** The stdio router on its own: which side answers as pods come and go (FakeClock-free: now() is a number we move). */
import { expect, test } from 'bun:test'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js'
import { createMcpBridge, NotDelivered, type PodLink } from '../../src/mcp/bridge'

function fakePod() {
  const state = { up: false, posted: [] as JSONRPCMessage[], healthChecks: 0 }
  const link: PodLink = {
    async running() {
      state.healthChecks++
      return state.up
    },
    async post(m) {
      if (!state.up) throw new NotDelivered('down')
      state.posted.push(m)
      return 'id' in m ? [{ jsonrpc: '2.0', id: m.id, result: { from: 'pod' } } as JSONRPCMessage] : null
    },
  }
  return { state, link }
}

function localServer(): McpServer {
  const s = new McpServer({ name: 'local', version: '1' })
  s.registerTool('where', { description: 'which side' }, () => ({ content: [{ type: 'text', text: 'local' }] }))
  return s
}

const init = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
} as JSONRPCMessage
const call = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'where', arguments: {} } }) as JSONRPCMessage

test('local while no pod runs, the pod once it appears (after the recheck interval), local again when it goes', async () => {
  const pod = fakePod()
  let now = 0
  const replies: JSONRPCMessage[] = []
  const modes: string[] = []
  const bridge = createMcpBridge({
    pod: pod.link,
    openLocal: async () => localServer(),
    reply: async (m) => void replies.push(m),
    now: () => now,
    recheckMs: 2000,
    onMode: (m) => modes.push(m),
  })
  const answer = async (m: JSONRPCMessage) => {
    replies.length = 0
    await bridge.handle(m)
    await Bun.sleep(0)
    return replies
  }

  expect((await answer(init))[0]).toMatchObject({ id: 1, result: { serverInfo: { name: 'local' } } })
  expect((await answer(call(2)))[0]).toMatchObject({ id: 2, result: { content: [{ text: 'local' }] } })

  pod.state.up = true
  now += 1000 // inside the recheck interval: not looked for yet
  expect((await answer(call(3)))[0]).toMatchObject({ result: { content: [{ text: 'local' }] } })
  now += 1500
  expect((await answer(call(4)))[0]).toMatchObject({ id: 4, result: { from: 'pod' } })
  expect((await answer(call(5)))[0]).toMatchObject({ result: { from: 'pod' } })

  pod.state.up = false // the pod stops: the very next message is answered locally
  expect((await answer(call(6)))[0]).toMatchObject({ id: 6, result: { content: [{ text: 'local' }] } })
  expect(modes).toEqual(['local', 'pod', 'local'])
  await bridge.close()
})

test('a local server started after the pod answered initialize is initialized with the same request, its reply swallowed', async () => {
  const pod = fakePod()
  pod.state.up = true
  const replies: JSONRPCMessage[] = []
  const bridge = createMcpBridge({
    pod: pod.link,
    openLocal: async () => localServer(),
    reply: async (m) => void replies.push(m),
    now: () => 0,
    recheckMs: 2000,
  })
  await bridge.handle(init)
  expect(replies).toEqual([{ jsonrpc: '2.0', id: 1, result: { from: 'pod' } } as JSONRPCMessage])
  pod.state.up = false
  await bridge.handle(call(2))
  await Bun.sleep(0)
  // Only the answer to the client's own request: the replayed initialize's answer never reaches it.
  expect(replies.slice(1)).toEqual([expect.objectContaining({ id: 2, result: expect.objectContaining({ content: [{ type: 'text', text: 'local' }] }) })])
  await bridge.close()
})

test('messages sent before initialize is answered wait for it: the handshake is answered first', async () => {
  const pod = fakePod()
  // A slow first look for a pod (socket timeout), while the client has already piped its next messages.
  let release!: () => void
  const slow = new Promise<void>((r) => (release = r))
  const running = pod.link.running
  pod.link.running = async () => {
    await slow
    return running()
  }
  const replies: JSONRPCMessage[] = []
  const bridge = createMcpBridge({
    pod: pod.link,
    openLocal: async () => localServer(),
    reply: async (m) => void replies.push(m),
    now: () => 0,
    recheckMs: 2000,
  })
  const handled = [bridge.handle(init), bridge.handle({ jsonrpc: '2.0', method: 'notifications/initialized' } as JSONRPCMessage), bridge.handle(call(2))]
  await Bun.sleep(5) // the later messages have had every chance to run ahead
  release()
  await Promise.all(handled)
  await Bun.sleep(5)
  expect(replies.map((r) => ('id' in r ? r.id : null))).toEqual([1, 2])
  await bridge.close()
})
