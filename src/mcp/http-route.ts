/**
 * MCP over Streamable HTTP at /mcp, stateless: each request gets its own transport (no session
 * to leak between agents, no JSON-RPC id shared by two clients). The tools themselves live in
 * src/mcp, shared with stdio. The MCP SDK (and zod under it) loads on the first /mcp request, not
 * at start: every pod process and CLI command would otherwise pay for it.
 */
import { Hono } from 'hono'
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { McpDeps } from './tools'

type Loaded = {
  WebStandardStreamableHTTPServerTransport: typeof import('@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js').WebStandardStreamableHTTPServerTransport
  createMcpServer: typeof import('./tools').createMcpServer
}
let loading: Promise<Loaded> | null = null
let loaded: Loaded | null = null
/** The SDK's modules, imported once; later requests take them without an await (a dynamic import per request cost measurably). */
const loadMcp = async (): Promise<Loaded> => {
  loading ??= Promise.all([import('@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'), import('./tools')]).then(
    ([{ WebStandardStreamableHTTPServerTransport }, { createMcpServer }]) => (loaded = { WebStandardStreamableHTTPServerTransport, createMcpServer }),
  )
  return loading
}

/** Idle servers kept for reuse; beyond this many concurrent requests, extras are built and dropped. */
const IDLE_SERVERS_MAX = 8

export function mcpRoutes(mcp: McpDeps) {
  // Building a server (six tools' schemas) costs more than answering a call; a closed server
  // holds no request state and reconnects to the next request's transport, so idle ones are reused.
  const idle: McpServer[] = []
  return new Hono().all('/mcp', async (c) => {
    const { WebStandardStreamableHTTPServerTransport, createMcpServer } = loaded ?? (await loadMcp())
    const server = idle.pop() ?? createMcpServer(mcp)
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true })
    await server.connect(transport)
    const release = () =>
      server.close().then(
        () => void (idle.length < IDLE_SERVERS_MAX && idle.push(server)),
        () => {}, // a server that cannot close is dropped, not reused
      )
    let answer: Response
    try {
      answer = await transport.handleRequest(c.req.raw)
    } catch (err) {
      await release()
      throw err
    }
    // A JSON answer is complete once handleRequest resolves, but the SDK settles the request's own
    // bookkeeping a few microtasks later: closing at once aborted that finished request's
    // AbortController on every call (most of the SDK's own cost per call, measured) and held the
    // answer back. The server closes on the next turn and returns to the pool then.
    setImmediate(release)
    return answer
  })
}
