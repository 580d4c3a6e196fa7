/**
 * src/mcp — the pod's MCP server (tools, instructions, context resource), defined once and
 * served over Streamable HTTP (src/http/mcp.ts) and stdio (src/cli/cmd-mcp.ts).
 */
export { createMcpServer, CONTEXT_URI, type McpDeps } from './tools'
export { sharePreview, type SharePreview } from './share-preview'
export { sessionContext, CONTEXT_LIMIT_DEFAULT, CONTEXT_LIMIT_MAX, type SessionContext } from './session-context'
export { projectInfo, type ProjectInfo } from './project-terms'
export { serverInstructions } from './instructions'
