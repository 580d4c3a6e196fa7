/**
 * `mazemaker mcp`: an MCP server on stdio for clients that launch a command (Claude Desktop,
 * Cursor, VS Code, Claude Code). Messages go to the running pod of this home over its Unix
 * socket, or, while none runs, to the same tools over the home's own database (bridge.ts).
 * stdout carries only the protocol; logs go to stderr.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js'
import { JSONRPCMessageSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js'
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { systemClock } from '../lib/clock'
import { createLogger, type Logger } from '../lib/log'
import { readBodyText } from '../lib/read-body'
import { errnoName } from '../runtime'
import { CONTEXT_URI } from './tools'
import { projectInfo, type ProjectInfo } from './project-terms'
import { createMcpBridge, NotDelivered, type PodLink } from './bridge'

/** How often a stdio server without a pod looks for one that has started since. */
const POD_RECHECK_MS = 2000
/** Errors that mean nothing listens on the socket, so the message never arrived. */
const NOT_LISTENING: ReadonlySet<string> = new Set(['ENOENT', 'ECONNREFUSED', 'ENOTSOCK'])

/** What the stdio server needs of the CLI's client of the home's running pod (its Unix socket). */
export interface PodSocketClient {
  /** What the client talks to, for messages: `unix:<home>/pod.sock`. */
  target: string
  /** True when this home's pod answers there. */
  running(): Promise<boolean>
  request(path: string, init: RequestInit): Promise<Response>
}

/** The running pod of the home, over the CLI's socket client; `project` is the agent's project for the context resource. */
export function podLink(client: PodSocketClient, project: () => ProjectInfo | null, maxAnswerBytes: number): PodLink {
  return {
    running: () => client.running(),
    async post(message) {
      const [outgoing, restore] = withProjectContext(message, project)
      let res: Response
      try {
        res = await client.request('/mcp', {
          method: 'POST',
          headers: { accept: 'application/json, text/event-stream', 'content-type': 'application/json' },
          body: JSON.stringify(outgoing),
        })
      } catch (err) {
        const code = errnoName(err)
        if (code && NOT_LISTENING.has(code)) throw new NotDelivered(`no pod listens at ${client.target}`)
        throw err
      }
      const text = await readBodyText(res, maxAnswerBytes, { what: '/mcp answer' })
      if (res.status === 202 || text === '') return null
      const parsed = JSON.parse(text) as unknown
      const list = Array.isArray(parsed) ? parsed : [parsed]
      const answers = list.flatMap((m) => {
        const r = JSONRPCMessageSchema.safeParse(m)
        return r.success ? [restore(r.data)] : []
      })
      if (answers.length === 0 && 'id' in message) {
        // An HTTP error without a JSON-RPC body (401 after a token change, say): answer the request.
        const why = (parsed as { message?: string }).message ?? `pod answered HTTP ${res.status}`
        return [{ jsonrpc: '2.0', id: message.id, error: { code: -32603, message: `mazemaker: ${why}` } } as JSONRPCMessage]
      }
      return answers
    },
  }
}

/**
 * The pod cannot see the agent's working directory, so a read of `mazemaker://context` is sent
 * as the project template (`mazemaker://context/<project words>`) and the answer's URIs are put back.
 */
function withProjectContext(message: JSONRPCMessage, project: () => ProjectInfo | null): [JSONRPCMessage, (m: JSONRPCMessage) => JSONRPCMessage] {
  const same = (m: JSONRPCMessage) => m
  if (!('method' in message) || message.method !== 'resources/read' || message.params?.uri !== CONTEXT_URI) return [message, same]
  const info = project()
  if (!info || info.terms.length === 0) return [message, same]
  const uri = `${CONTEXT_URI}/${encodeURIComponent(info.terms.join(' '))}`
  const restore = (m: JSONRPCMessage) => {
    if (!('result' in m)) return m
    const contents = (m.result as { contents?: { uri: string }[] }).contents
    return { ...m, result: { ...m.result, contents: contents?.map((c) => ({ ...c, uri: CONTEXT_URI })) } } as JSONRPCMessage
  }
  return [{ ...message, params: { ...message.params, uri } }, restore]
}

export interface McpStdioOptions {
  client: PodSocketClient
  maxAnswerBytes: number
  /** The same tools over the home's own database, for when no pod runs (src/pod/local-mcp.ts). */
  openLocal(log: Logger, project: () => ProjectInfo | null): Promise<{ server: McpServer; close(): Promise<void> }>
  /** Project directory for the context resource (default: the working directory). */
  project?: string
}

/** `mazemaker mcp`: serves MCP on stdio until the client closes stdin (or a signal), then exits. */
export async function runMcpStdio(opts: McpStdioOptions): Promise<never> {
  const log = createLogger({ level: 'warn' }).with({ op: 'mcp' })
  let info: ProjectInfo | null | undefined
  const project = () => (info === undefined ? (info = projectInfo(opts.project ?? process.cwd())) : info)
  const opened: { local?: { close(): Promise<void> } } = {}
  const stdio = new StdioServerTransport()
  const bridge = createMcpBridge({
    pod: podLink(opts.client, project, opts.maxAnswerBytes),
    openLocal: async () => {
      const local = await opts.openLocal(log, project)
      opened.local = local
      return local.server
    },
    reply: (m) => stdio.send(m),
    now: () => systemClock.now(),
    recheckMs: POD_RECHECK_MS,
    onMode: (mode) => log.info({ msg: mode === 'pod' ? 'using the running pod' : 'no pod running; using the home directly' }),
  })
  stdio.onmessage = (m) => void bridge.handle(m)
  stdio.onerror = (err) => log.warn({ err: 'bad_message', msg: err.message })
  await stdio.start()
  // The client closing our stdin ends the session (the SDK transport does not watch for it).
  await new Promise<void>((resolve) => {
    process.stdin.once('end', resolve)
    process.stdin.once('close', resolve)
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, resolve)
  })
  await stdio.close()
  await bridge.close()
  await opened.local?.close()
  process.exit(0)
}
