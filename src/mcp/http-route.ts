/**
 * MCP over Streamable HTTP at /mcp, stateless: each request gets its own transport (no session
 * to leak between agents, no JSON-RPC id shared by two clients). The tools themselves live in
 * src/mcp, shared with stdio. The MCP SDK (and zod under it) loads on the first /mcp request, not
 * at start: every pod process and CLI command would otherwise pay for it.
 */
import { Hono } from 'hono'
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { McpDeps } from './tools'

const loadMcp = async () => {
  const [{ WebStandardStreamableHTTPServerTransport }, { createMcpServer }] = await Promise.all([
    import('@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'),
    import('./tools'),
  ])
  return { WebStandardStreamableHTTPServerTransport, createMcpServer }
}

/** Idle servers kept for reuse; beyond this many concurrent requests, extras are built and dropped. */
const IDLE_SERVERS_MAX = 8

export function mcpRoutes(mcp: McpDeps) {
  // Building a server (six tools' schemas) costs more than answering a call; a closed server
  // holds no request state and reconnects to the next request's transport, so idle ones are reused.
  const idle: McpServer[] = []
  return new Hono().all('/mcp', async (c) => {
    const { WebStandardStreamableHTTPServerTransport, createMcpServer } = await loadMcp()
    const server = idle.pop() ?? createMcpServer(mcp)
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true })
    await server.connect(transport)
    try {
      return await transport.handleRequest(c.req.raw)
    } finally {
      // JSON responses are complete once handleRequest resolves, so closing here ends nothing early.
      await server.close()
      if (idle.length < IDLE_SERVERS_MAX) idle.push(server)
    }
  })
}
