/**
 * MCP over Streamable HTTP at /mcp, stateless (no session to leak between agents). The tools
 * themselves live in src/mcp, shared with stdio. The MCP SDK (and zod under it) loads on the
 * first /mcp request, not at start: every pod process and CLI command would otherwise pay for it.
 *
 * One server per pod answers the requests every client sends: a POST of one JSON-RPC request or
 * notification, answered in JSON. It stays connected to a SharedServerTransport, which routes each
 * answer back to its request by id. A plain tools/call of one of its tools, the request agents
 * send most, is answered from the same tool table without it (direct-calls.ts). Other POSTs
 * (batches, malformed bodies, odd headers) go to the SDK's own stateless transport on a server of
 * their own, which answers them exactly as the SDK does. GET and DELETE are 405, as in the SDK's
 * stateless example: there is no stream to open and no session to end. (Served as an event
 * stream that ended at once, GET had every idle client open it again about once a second.)
 */
import { Hono } from 'hono'
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { JSONRPCMessage, JSONRPCNotification, JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js'
import type { McpDeps } from './tools'
import type { SharedServerTransport } from './shared-transport'
import type { DirectCall } from './direct-calls'

type Sdk = {
  WebStandardStreamableHTTPServerTransport: typeof import('@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js').WebStandardStreamableHTTPServerTransport
  createMcpServer: typeof import('./tools').createMcpServer
  toolTable: typeof import('./tool-table').toolTable
  directToolCalls: typeof import('./direct-calls').directToolCalls
  SharedServerTransport: typeof import('./shared-transport').SharedServerTransport
  types: typeof import('@modelcontextprotocol/sdk/types.js')
  isJsonContentType: typeof import('@modelcontextprotocol/sdk/shared/mediaType.js').isJsonContentType
  maxBodyBytes: number
}
let loading: Promise<Sdk> | null = null
let loaded: Sdk | null = null
/** The SDK's modules, imported once; later requests take them without an await (a dynamic import per request cost measurably). */
const loadMcp = async (): Promise<Sdk> => {
  loading ??= Promise.all([
    import('@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'),
    import('./tools'),
    import('./tool-table'),
    import('./direct-calls'),
    import('./shared-transport'),
    import('@modelcontextprotocol/sdk/types.js'),
    import('@modelcontextprotocol/sdk/shared/mediaType.js'),
    import('@modelcontextprotocol/sdk/server/requestBody.js'),
  ]).then(
    ([
      { WebStandardStreamableHTTPServerTransport },
      { createMcpServer },
      { toolTable },
      { directToolCalls },
      { SharedServerTransport },
      types,
      { isJsonContentType },
      { DEFAULT_MAX_REQUEST_BODY_SIZE },
    ]) =>
      (loaded = {
        WebStandardStreamableHTTPServerTransport,
        createMcpServer,
        toolTable,
        directToolCalls,
        SharedServerTransport,
        types,
        isJsonContentType,
        maxBodyBytes: DEFAULT_MAX_REQUEST_BODY_SIZE,
      }),
  )
  return loading
}

/** The pod's one server (through its transport) and the direct answers to plain tool calls, from one tool table. */
interface PodMcp {
  shared: SharedServerTransport
  direct: DirectCall
}

export function mcpRoutes(mcp: McpDeps) {
  let pod: PodMcp | null = null
  let connecting: Promise<PodMcp> | null = null
  /** Built and connected on first use. */
  const connectPod = (sdk: Sdk) =>
    (connecting ??= (async () => {
      const tools = sdk.toolTable(mcp)
      const shared = new sdk.SharedServerTransport()
      await sdk.createMcpServer(mcp, tools).connect(shared)
      return (pod = { shared, direct: sdk.directToolCalls(tools) })
    })())

  return new Hono().all('/mcp', async (c) => {
    const sdk = loaded ?? (await loadMcp())
    const req = c.req.raw
    if (req.method !== 'POST') return methodNotAllowed()
    if (!answersInJson(sdk, req.headers)) return viaSdkTransport(sdk, mcp, req)
    const text = await c.req.text()
    const value = parseJson(text)
    const { shared, direct } = pod ?? (await connectPod(sdk))
    // A plain call may be as large as the admin body cap lets it (max_content_bytes), as for POST
    // /memories: the SDK transport's own 4 MiB cap would refuse memories the tool's schema allows.
    const answer = value === undefined ? null : direct(value)
    if (answer) return jsonAnswer(await answer)
    const message = singleMessage(sdk, withinSdkCap(sdk, text) ? value : undefined)
    if (message === null) {
      // The body is read: the SDK's transport gets the same bytes in a request of its own.
      return viaSdkTransport(sdk, mcp, new Request(req.url, { method: req.method, headers: req.headers, body: text, signal: req.signal }))
    }
    if ('id' in message) return jsonAnswer(await shared.request(message))
    // A cancel names an id of the caller's own, which the shared server never saw; and a stateless
    // caller never had a request of its running on the server that would read this one anyway.
    if (message.method !== 'notifications/cancelled') shared.notify(message)
    return new Response(null, { status: 202 })
  })
}

/** The checks the SDK's transport makes before it reads a POST, so a request it would refuse goes to it. */
function answersInJson(sdk: Sdk, headers: Headers): boolean {
  const accept = headers.get('accept')
  if (!accept?.includes('application/json') || !accept.includes('text/event-stream')) return false
  if (!sdk.isJsonContentType(headers.get('content-type'))) return false
  const version = headers.get('mcp-protocol-version')
  return version === null || sdk.types.SUPPORTED_PROTOCOL_VERSIONS.includes(version)
}

/** The body as JSON; undefined when it is none (the SDK's transport words the parse error). */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

/** A body the SDK's transport would take (a larger one goes to it to be refused as it refuses it). */
const withinSdkCap = (sdk: Sdk, text: string) => text.length * 3 <= sdk.maxBodyBytes || Buffer.byteLength(text) <= sdk.maxBodyBytes

/**
 * The body's one JSON-RPC request or notification, checked with the SDK's own schemas (the
 * server's dispatch asks the same questions); null for anything the SDK's transport should answer.
 */
function singleMessage(sdk: Sdk, value: unknown): JSONRPCRequest | JSONRPCNotification | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null
  if (sdk.types.isJSONRPCRequest(value) || sdk.types.isJSONRPCNotification(value)) return value
  return null
}

/** The SDK's own answer to a method it does not serve, naming the one this route does. */
const methodNotAllowed = () =>
  new Response(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null }), {
    status: 405,
    headers: { allow: 'POST', 'content-type': 'application/json' },
  })

const jsonAnswer = (message: JSONRPCMessage) => new Response(JSON.stringify(message), { status: 200, headers: { 'content-type': 'application/json' } })

/** The SDK's stateless transport, on a server built for this one request. */
async function viaSdkTransport(sdk: Sdk, mcp: McpDeps, req: Request): Promise<Response> {
  const server: McpServer = sdk.createMcpServer(mcp)
  const transport = new sdk.WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true })
  await server.connect(transport)
  const close = () => void server.close().catch(() => {})
  try {
    const answer = await transport.handleRequest(req)
    // A JSON answer is complete once handleRequest resolves, but the SDK settles the request's own
    // bookkeeping a few microtasks later: closing at once would abort that finished request.
    setImmediate(close)
    return answer
  } catch (err) {
    close()
    throw err
  }
}
