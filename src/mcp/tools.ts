/**
 * The pod's MCP server, defined once: the tools of tool-table.ts, instructions and the context
 * resource. The HTTP route (src/mcp/http-route.ts) and the stdio server (src/mcp/stdio.ts) both
 * build it from McpDeps.
 */
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { Store } from '../store'
import type { PeersOverview } from '../api/types'
import { serverInstructions } from './instructions'
import { projectInfoFromName, type ProjectInfo } from './project-terms'
import { CONTEXT_LIMIT_DEFAULT, sessionContext } from './session-context'
import { toolTable, type McpTool } from './tool-table'

export interface McpDeps {
  store: Pick<Store, 'rememberGrouped' | 'recall' | 'forget' | 'stats' | 'changesSince' | 'list'>
  peersOverview(): PeersOverview
  publicPrefixes: readonly string[]
  maxContentBytes: number
  version: string
  /** The project the agent works in (stdio: the server's working directory); null when unknown (HTTP). */
  project?(): ProjectInfo | null
}

export const CONTEXT_URI = 'mazemaker://context'

export function createMcpServer(deps: McpDeps, tools: readonly McpTool[] = toolTable(deps)): McpServer {
  const { store, publicPrefixes: prefixes } = deps
  const server = new McpServer({ name: 'mazemaker', version: deps.version }, { instructions: serverInstructions(prefixes), capabilities: { resources: {} } })

  for (const { name, config, run } of tools) {
    const { inputSchema, ...rest } = config
    if (inputSchema) server.registerTool(name, { ...rest, inputSchema }, (args) => run(args))
    else server.registerTool(name, rest, () => run({}))
  }

  const contextText = async (project: ProjectInfo | null) => (await sessionContext(store, project, CONTEXT_LIMIT_DEFAULT, prefixes)).text
  server.registerResource(
    'context',
    CONTEXT_URI,
    {
      title: 'Memory for this session',
      description: 'Memories relevant to the current project and recent work, for the start of a session.',
      mimeType: 'text/markdown',
    },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/markdown', text: await contextText(deps.project?.() ?? null) }] }),
  )
  server.registerResource(
    'project-context',
    new ResourceTemplate(`${CONTEXT_URI}/{project}`, { list: undefined }),
    {
      title: 'Memory for a named project',
      description: 'Memories relevant to the named project (its name or a few words) and recent work.',
      mimeType: 'text/markdown',
    },
    async (uri, { project }) => {
      const name = decodeURIComponent(String(Array.isArray(project) ? project[0] : project)).slice(0, 200)
      return { contents: [{ uri: uri.href, mimeType: 'text/markdown', text: await contextText(projectInfoFromName(name)) }] }
    },
  )
  return server
}
