/**
 * The stdio MCP server's router. Each message an MCP client sends goes to the running pod of
 * this home (its /mcp route, through `PodLink`) when there is one, so writes take the pod's path
 * (group commit, wake-ups of waiting peers); when none runs it goes to an in-process server
 * built from the same tool definitions over the home's own database. The choice is re-made as
 * pods come and go: a pod that went away is noticed on the next message, and one that appeared
 * is found within `recheckMs`.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js'
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js'

/** Thrown by PodLink.post when the message certainly did not reach a pod (nothing listens). */
export class NotDelivered extends Error {}

export interface PodLink {
  running(): Promise<boolean>
  /** One message to the pod's /mcp: its answer(s), or null for a notification. */
  post(message: JSONRPCMessage): Promise<JSONRPCMessage[] | null>
}

export interface BridgeOptions {
  pod: PodLink
  /** The in-process server over the home's database (built on first need). */
  openLocal(): Promise<McpServer>
  reply(message: JSONRPCMessage): Promise<void>
  now(): number
  recheckMs: number
  onMode?(mode: 'pod' | 'local'): void
}

const REPLAY_ID = 'mazemaker-replayed-initialize'

const isRequest = (m: JSONRPCMessage): m is JSONRPCMessage & { id: string | number; method: string } => 'method' in m && 'id' in m
const isInitialize = (m: JSONRPCMessage) => 'method' in m && m.method === 'initialize'

export function createMcpBridge(opts: BridgeOptions) {
  let mode: 'pod' | 'local' | null = null
  let checkedAt = -Infinity
  let initialize: JSONRPCMessage | null = null
  let local: Promise<InMemoryTransport> | null = null
  // Nothing overtakes the client's initialize: until it is answered, later messages wait (a
  // client that pipes everything at once would otherwise get answers before the handshake).
  let initialized: Promise<void> = Promise.resolve()

  const setMode = (m: 'pod' | 'local') => {
    if (mode !== m) opts.onMode?.(m)
    mode = m
  }

  async function podIsUp(): Promise<boolean> {
    if (mode === 'pod') return true
    if (opts.now() - checkedAt < opts.recheckMs) return false
    checkedAt = opts.now()
    return opts.pod.running()
  }

  /** The in-process server, told about the client's initialize if the pod answered that one. */
  function localLink(replay: boolean): Promise<InMemoryTransport> {
    local ??= (async () => {
      const [client, server] = InMemoryTransport.createLinkedPair()
      client.onmessage = (m) => {
        if ('id' in m && m.id === REPLAY_ID) return
        void opts.reply(m)
      }
      await (await opts.openLocal()).connect(server)
      await client.start()
      if (replay && initialize && 'params' in initialize) {
        await client.send({ jsonrpc: '2.0', id: REPLAY_ID, method: 'initialize', params: initialize.params })
        await client.send({ jsonrpc: '2.0', method: 'notifications/initialized' })
      }
      return client
    })()
    return local
  }

  async function viaPod(message: JSONRPCMessage): Promise<boolean> {
    try {
      const answers = await opts.pod.post(message)
      setMode('pod')
      for (const a of answers ?? []) await opts.reply(a)
      return true
    } catch (err) {
      if (!(err instanceof NotDelivered)) throw err
      setMode('local')
      checkedAt = opts.now()
      return false
    }
  }

  /** To the pod when one answers, else to the in-process server; a failure answers the request. */
  async function route(message: JSONRPCMessage): Promise<void> {
    try {
      if ((await podIsUp()) && (await viaPod(message))) return
      setMode('local')
      // A local server that never saw the client's initialize (it went to the pod) gets it replayed.
      const link = await localLink(!isInitialize(message))
      await link.send(message)
    } catch (err) {
      if (!isRequest(message)) return
      const text = err instanceof Error ? err.message : String(err)
      await opts.reply({ jsonrpc: '2.0', id: message.id, error: { code: -32603, message: `mazemaker: ${text}` } })
    }
  }

  return {
    async handle(message: JSONRPCMessage): Promise<void> {
      if (isInitialize(message)) {
        initialize = message
        const done = route(message)
        initialized = done
        return done
      }
      await initialized
      return route(message)
    },
    async close(): Promise<void> {
      if (local) await (await local).close()
    },
  }
}
