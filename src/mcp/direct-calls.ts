/**
 * tools/call of one of the pod's own tools, answered without the SDK server's request path. A
 * stateless call needs nothing of that path (no session, no task, no progress), yet it cost more
 * than the write itself: the message checked against three JSON-RPC shapes, the request parsed
 * twice, the arguments, the structured output and the whole result each checked again with zod.
 * Only the shape clients send takes this way: a request with `name`, `arguments` and at most a
 * progress token in its params, for a tool of the table, with arguments its input schema accepts.
 * Anything else (another method, other `_meta`, `task`, an unknown tool, arguments the schema
 * refuses) goes to the SDK server, which words its own answers and refusals as before.
 */
import { z } from 'zod'
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js'
import type { McpTool, ToolResult } from './tool-table'

/** The answer to `message` if it is a plain call of one of `tools`; null when the SDK server should answer. */
export type DirectCall = (message: unknown) => Promise<JSONRPCMessage> | null

export function directToolCalls(tools: readonly McpTool[]): DirectCall {
  const byName = new Map(tools.map(({ name, config, run }) => [name, { run, input: config.inputSchema ? z.object(config.inputSchema) : null }]))
  return (message) => {
    const call = plainToolCall(message)
    const tool = call && byName.get(call.name)
    if (!tool) return null
    if (!tool.input) return answer(call.id, () => tool.run({}))
    const args = tool.input.safeParse(call.arguments ?? {})
    return args.success ? answer(call.id, () => tool.run(args.data)) : null
  }
}

type Plain = Record<string, unknown>
const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v)
const ENVELOPE_KEYS: ReadonlySet<string> = new Set(['jsonrpc', 'id', 'method', 'params'])
const PARAM_KEYS: ReadonlySet<string> = new Set(['name', 'arguments', '_meta'])
const onlyKeys = (o: Plain, allowed: ReadonlySet<string>) => Object.keys(o).every((k) => allowed.has(k))
const isId = (v: unknown): v is RequestId => typeof v === 'string' || Number.isSafeInteger(v)

/** The call when `message` is a JSON-RPC tools/call the SDK would take as one (narrower, never wider). */
function plainToolCall(message: unknown): { id: RequestId; name: string; arguments: Plain | undefined } | null {
  if (!isPlain(message) || message.jsonrpc !== '2.0' || message.method !== 'tools/call' || !onlyKeys(message, ENVELOPE_KEYS)) return null
  const { id, params } = message
  if (!isId(id)) return null
  if (!isPlain(params) || typeof params.name !== 'string' || !onlyKeys(params, PARAM_KEYS)) return null
  if (params.arguments !== undefined && !isPlain(params.arguments)) return null
  if (params._meta !== undefined && !onlyProgressToken(params._meta)) return null
  return { id, name: params.name, arguments: params.arguments }
}

/**
 * `_meta` that changes nothing in the answer: at most a progress token (clients may send one with
 * every call; these tools report no progress). Other keys (a related task, say) are the SDK's to judge.
 */
const onlyProgressToken = (meta: unknown) =>
  isPlain(meta) && Object.keys(meta).every((k) => k === 'progressToken') && (meta.progressToken === undefined || isId(meta.progressToken))

/** The SDK server's answer to a call: its result, or an error thrown by the tool as a tool error. */
async function answer(id: RequestId, run: () => Promise<ToolResult>): Promise<JSONRPCMessage> {
  let result: ToolResult
  try {
    result = await run()
  } catch (err) {
    result = { content: [{ type: 'text', text: err instanceof Error ? err.message : String(err) }], isError: true }
  }
  return { result, jsonrpc: '2.0', id }
}
