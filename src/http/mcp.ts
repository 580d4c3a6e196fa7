/**
 * MCP over Streamable HTTP at POST /mcp, stateless: each request gets a fresh server and
 * transport (no session to leak between agents). Tools mirror the local API.
 */
import { Hono } from 'hono'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'
import { z } from 'zod'
import { PodError } from '../lib/errors'
import type { AppDeps } from './deps'

type ToolResult = { content: { type: 'text'; text: string }[]; isError?: boolean }

function ok(value: unknown): ToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }] }
}

/** Turns our errors into MCP tool errors the agent can read; anything else propagates. */
async function tool(fn: () => unknown | Promise<unknown>): Promise<ToolResult> {
  try {
    return ok(await fn())
  } catch (err) {
    if (err instanceof PodError) return { content: [{ type: 'text', text: `${err.code}: ${err.message}` }], isError: true }
    throw err
  }
}

export function createMcpServer(deps: AppDeps): McpServer {
  const { store } = deps
  const server = new McpServer({ name: 'mazemaker', version: deps.version })
  server.registerTool(
    'mazemaker_remember',
    {
      description:
        'Store a memory. Labels starting with a public prefix (public:, decision:, auto:, …) are shared with paired pods; any other label is private and vault-encrypted.',
      inputSchema: {
        label: z.string().min(1).max(256).describe('e.g. "decision:db-choice" (shared) or "note:x" (private)'),
        content: z.string().min(1).describe('the memory text'),
      },
    },
    ({ label, content }) => tool(() => store.rememberGrouped({ label, content })),
  )
  server.registerTool(
    'mazemaker_recall',
    {
      description: 'Search memories (own and pulled from peers) by words; best matches first. Copies from peers name their peer.',
      inputSchema: {
        query: z.string().min(1).max(1024),
        k: z.number().int().min(1).max(100).optional().describe('how many results (default 10)'),
      },
    },
    ({ query, k }) => tool(() => ({ results: store.recall(query, k ?? 10) })),
  )
  server.registerTool(
    'mazemaker_forget',
    {
      description: 'Delete a memory by id. Peers that hold a copy drop it on their next pull.',
      inputSchema: { id: z.string().uuid() },
    },
    ({ id }) => tool(() => ({ id, deleted: store.forget(id) })),
  )
  server.registerTool(
    'mazemaker_stats',
    { description: 'Counts of memories: own public, own private, copies per peer.' },
    () => tool(() => store.stats()),
  )
  server.registerTool(
    'mazemaker_peers',
    { description: 'Paired pods with their status (ready, handshake-pending, paused, error, revoked) and copies held.' },
    () => tool(() => deps.peersOverview()),
  )
  return server
}

export function mcpRoutes(deps: AppDeps) {
  return new Hono().all('/mcp', async (c) => {
    const server = createMcpServer(deps)
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true })
    await server.connect(transport)
    try {
      return await transport.handleRequest(c.req.raw)
    } finally {
      void server.close()
    }
  })
}
