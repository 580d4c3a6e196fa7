/**
 * `mazemaker mcp`: the command's definition only. The stdio server (src/mcp/stdio.ts, with
 * the MCP SDK and zod) loads when the command runs, so no other command pays for it at start.
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
      const { runMcpStdio } = await import('../mcp/stdio')
      const root = homeRoot(flags)
      await runMcpStdio({ root, client: podClient({ ...flags, home: root }), maxAnswerBytes: MAX_ANSWER_BYTES, project: args.project })
    },
  })
}
