/**
 * MCP over Streamable HTTP at /mcp, stateless: each request gets a fresh server and transport
 * (no session to leak between agents). The tools themselves live in src/mcp, shared with stdio.
 */
import { Hono } from 'hono'
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'
import { createMcpServer, type McpDeps } from '../mcp'
import type { AppDeps } from './deps'

export function mcpDeps(deps: AppDeps): McpDeps {
  return {
    store: deps.store,
    peersOverview: () => deps.peersOverview(),
    publicPrefixes: deps.publicPrefixes,
    maxContentBytes: deps.maxContentBytes,
    version: deps.version,
    // Over HTTP the pod cannot see the agent's working directory; the resource template names one.
    project: () => null,
  }
}

export function mcpRoutes(deps: AppDeps) {
  const mcp = mcpDeps(deps)
  return new Hono().all('/mcp', async (c) => {
    const server = createMcpServer(mcp)
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true })
    await server.connect(transport)
    try {
      return await transport.handleRequest(c.req.raw)
    } finally {
      void server.close()
    }
  })
}
