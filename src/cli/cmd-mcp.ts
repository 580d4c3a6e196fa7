/**
 * `mazemaker mcp`: the command's definition only. The stdio server (src/mcp/stdio.ts, with
 * the MCP SDK and zod) and its fallback over the home's database (src/pod/local-mcp.ts) load
 * when the command runs, so no other command pays for it at start.
 */
import { defineCommand } from 'citty'
import { homeRoot, MAX_ANSWER_BYTES, podClient, type GlobalFlags } from './context'

export function mcpCommand(flags: GlobalFlags) {
  return defineCommand({
    meta: { name: 'mcp', description: 'MCP server on stdio (for Claude Desktop, Cursor, VS Code…): uses the running pod, or the home directly when none runs' },
    args: {
      project: { type: 'string', description: 'project directory for the context resource (default: the working directory)' },
    },
    async run({ args }) {
      const [{ runMcpStdio }, { openLocalMcp }] = await Promise.all([import('../mcp/stdio'), import('../pod/local-mcp')])
      const home = homeRoot(flags)
      await runMcpStdio({
        client: podClient({ ...flags, home }),
        maxAnswerBytes: MAX_ANSWER_BYTES,
        openLocal: (log, project) => openLocalMcp({ home, log, project }),
        project: args.project,
      })
    },
  })
}
