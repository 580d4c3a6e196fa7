/**
 * The MCP server over a home's own database, for `mazemaker mcp` while no pod runs: the same
 * core as `serve` (openPodCore, without the lock), no peers served or pulled. Loads the MCP SDK,
 * so only the stdio command imports it, lazily.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { Logger } from '../lib/log'
import { VERSION } from '../lib/version'
import type { ProjectInfo } from '../mcp/project-terms'
import { createMcpServer } from '../mcp/tools'
import { openPodCore } from './core'

export interface LocalMcp {
  server: McpServer
  /** The server, then the core (indexer, store). */
  close(): Promise<void>
}

export async function openLocalMcp(opts: { home: string; log: Logger; project: () => ProjectInfo | null }): Promise<LocalMcp> {
  const core = await openPodCore({ home: opts.home, log: opts.log, lock: false })
  const { config } = core.home
  const server = createMcpServer({
    store: core.store,
    peersOverview: () => core.peersOverview(),
    publicPrefixes: config.public_prefixes,
    maxContentBytes: config.max_content_bytes,
    version: VERSION,
    project: opts.project,
  })
  return {
    server,
    async close() {
      try {
        await server.close()
      } finally {
        await core.close()
      }
    },
  }
}
