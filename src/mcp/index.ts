/**
 * src/mcp — the pod's MCP server (tools, instructions, context resource), defined once and
 * served over Streamable HTTP (http-route.ts, the pod's /mcp) and stdio (stdio.ts and bridge.ts,
 * run by `mazemaker mcp`). Both load the MCP SDK lazily: import them directly, not through here.
 */
export { createMcpServer, CONTEXT_URI, type McpDeps } from './tools'
export { sharePreview, type SharePreview } from './share-preview'
export { sessionContext, CONTEXT_LIMIT_DEFAULT, CONTEXT_LIMIT_MAX, type SessionContext } from './session-context'
export { projectInfo, type ProjectInfo } from './project-terms'
export { serverInstructions } from './instructions'
