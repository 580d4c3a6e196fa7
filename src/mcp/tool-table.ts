/**
 * The pod's MCP tools, defined once: name, the definition clients list (description, zod input
 * and output schemas, annotations) and what a call does. createMcpServer registers them on the
 * SDK's server; the HTTP route also answers plain tools/call requests with them directly
 * (direct-calls.ts), so both run the same code.
 */
import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js'
import { z } from 'zod'
import { PodError } from '../lib/errors'
import { GLOB_MAX_CHARS, SCOPE_MAX_GLOBS, UUID_RE } from '../protocol'
import { isGateEligible, LABEL_MAX_CHARS, RECALL_K_MAX } from '../store'
import { rememberDescription } from './instructions'
import { sharePreview } from './share-preview'
import type { McpDeps } from './tools'

const DEFAULT_PREVIEW_SCOPE = ['*']
const PREVIEW_LIMIT_MAX = 100
const GLOB = z
  .string()
  .min(1)
  .max(GLOB_MAX_CHARS)
  .regex(/^[^\u0000-\u001f\u007f-\u009f]*$/, 'control characters are not allowed in a glob')

export type ToolResult = { content: { type: 'text'; text: string }[]; structuredContent?: Record<string, unknown>; isError?: boolean }

/** Our errors become tool errors the agent can read and act on; anything else propagates. */
async function tool(fn: () => Record<string, unknown> | Promise<Record<string, unknown>>): Promise<ToolResult> {
  try {
    const value = await fn()
    return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value }
  } catch (err) {
    if (err instanceof PodError) return { content: [{ type: 'text', text: `${err.code}: ${err.message}` }], isError: true }
    throw err
  }
}

const memoryOut = { id: z.string(), label: z.string(), content: z.string() }
const statsOut = {
  memories: z.number().int(),
  private: z.number().int(),
  public: z.number().int(),
  peer_copies: z.number().int(),
  tombstones: z.number().int(),
  by_peer: z.record(z.string(), z.number().int()),
}

export interface McpTool {
  name: string
  config: { title: string; description: string; inputSchema?: z.ZodRawShape; outputSchema: z.ZodRawShape; annotations: ToolAnnotations }
  /** The call, given arguments its input schema accepted ({} for a tool without one). */
  run(args: Record<string, unknown>): Promise<ToolResult>
}

/** A tool whose `run` is typed by its own input schema. */
function defineTool<In extends z.ZodRawShape | undefined = undefined>(
  name: string,
  config: Omit<McpTool['config'], 'inputSchema'> & { inputSchema?: In },
  run: (args: In extends z.ZodRawShape ? z.output<z.ZodObject<In>> : Record<string, never>) => Promise<ToolResult>,
): McpTool {
  return { name, config, run: run as McpTool['run'] }
}

/** The tools in the order clients list them. */
export function toolTable(deps: McpDeps): McpTool[] {
  const { store, publicPrefixes: prefixes, maxContentBytes } = deps
  return [
    defineTool(
      'mazemaker_remember',
      {
        title: 'Remember',
        description: rememberDescription(prefixes, maxContentBytes),
        inputSchema: {
          label: z
            .string()
            .min(1)
            .max(LABEL_MAX_CHARS)
            .regex(/^[^\u0000-\u001f\u007f-\u009f]*$/, 'label must not contain control characters')
            .regex(/^(?!peer:)/, 'labels starting with "peer:" are reserved for copies from peers')
            .describe(`e.g. "decision:db-choice" (shared: starts with a public prefix) or "note:standup" (private). At most ${LABEL_MAX_CHARS} characters.`),
          content: z
            .string()
            .min(1)
            .max(maxContentBytes)
            .refine((s) => Buffer.byteLength(s, 'utf8') <= maxContentBytes, `content is over ${maxContentBytes} bytes of UTF-8; split it into several memories`)
            .describe(`the memory text, at most ${maxContentBytes} bytes of UTF-8`),
        },
        outputSchema: {
          id: z.string(),
          label: z.string(),
          encrypted: z.boolean().describe('stored vault-encrypted (a private label)'),
          shared: z.boolean().describe('peers receive a copy on their next pull'),
          held: z.boolean().describe('the content looked like a credential: held back from every peer until the operator releases it'),
          warning: z.string().optional().describe('set when held: what was found and how to release it'),
        },
        annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
      },
      ({ label, content }) =>
        tool(async () => {
          const saved = await store.rememberGrouped({ label, content })
          // Decided as the feed will decide it: a public label whose content is not vault ciphertext, not held.
          return { ...saved, shared: isGateEligible({ label: saved.label, content, origin_peer: null, held: saved.held ? 1 : 0 }, prefixes) }
        }),
    ),

    defineTool(
      'mazemaker_recall',
      {
        title: 'Recall',
        description:
          'Search memories (own, and copies pulled from peers) by words; best matches first. A copy from a peer has label "peer:<peer-id>:<label>" and names its peer.',
        inputSchema: {
          query: z.string().min(1).max(1024).describe('a few words; any of them may match'),
          k: z.number().int().min(1).max(RECALL_K_MAX).optional().describe('how many results (default 10)'),
        },
        outputSchema: {
          results: z.array(z.object({ ...memoryOut, score: z.number(), peer: z.string().nullable().describe('peer id for a copy from a peer, else null') })),
        },
        annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      },
      ({ query, k }) =>
        tool(() => ({ results: store.recall(query, k ?? 10).map(({ id, label, content, score, peer }) => ({ id, label, content, score, peer })) })),
    ),

    defineTool(
      'mazemaker_forget',
      {
        title: 'Forget',
        description: 'Delete one memory by id. Peers holding a copy drop it on their next pull. Copies from peers cannot be forgotten here.',
        inputSchema: { id: z.string().regex(UUID_RE, 'id must be a lowercase UUID as returned by remember or recall') },
        outputSchema: { id: z.string(), deleted: z.boolean().describe('false when no such memory existed') },
        annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
      },
      ({ id }) => tool(() => ({ id, deleted: store.forget(id) })),
    ),

    defineTool(
      'mazemaker_stats',
      {
        title: 'Memory counts',
        description: 'Counts of memories: own public (shared), own private, copies per peer, tombstones.',
        outputSchema: statsOut,
        annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      },
      () => tool(() => ({ ...store.stats() })),
    ),

    defineTool(
      'mazemaker_peers',
      {
        title: 'Peers',
        description: 'Paired pods with their status (ready, handshake-pending, awaiting-peer, paused, error, revoked, held), last sync and copies held.',
        outputSchema: {
          peers: z.array(
            z.object({
              id: z.string(),
              name: z.string(),
              status: z.string(),
              sync: z.boolean(),
              scope: z.union([z.string(), z.array(z.string())]),
              last_sync_at: z.string().nullable(),
              last_error: z.string().nullable(),
              memories: z.number().int(),
            }),
          ),
          summary: z.string(),
          error: z.string().nullable(),
          unknown_callers: z
            .array(z.object({ id: z.string(), first_seen: z.string(), last_seen: z.string(), count: z.number().int() }))
            .optional()
            .describe('pods that tried to pull from this pod without being its peer (display only; pairing needs their handshake URL)'),
        },
        annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      },
      () => tool(() => ({ ...deps.peersOverview() })),
    ),

    defineTool(
      'mazemaker_share_preview',
      {
        title: 'Share preview',
        description:
          'Exactly what a peer pulling from this pod would receive now (the same gate and scope code as peer sync), with counts per label prefix ' +
          'and the most recently changed entries. Without a scope this is what a newly paired peer asks for ("*": everything the gate lets out); ' +
          'pass a narrower scope (["public:*"]) to see what a peer with that scope receives.',
        inputSchema: {
          scope: z.array(GLOB).min(1).max(SCOPE_MAX_GLOBS).optional().describe('label globs (* and ?), as a peer sends them; default ["*"]'),
          limit: z.number().int().min(0).max(PREVIEW_LIMIT_MAX).optional().describe('how many entries to list (default 20)'),
        },
        outputSchema: {
          scope: z.array(z.string()),
          total: z.number().int().describe('memories a peer with this scope receives'),
          by_prefix: z.record(z.string(), z.number().int()),
          memories: z.array(z.object({ ...memoryOut, updated_at: z.string() })),
          truncated: z.boolean(),
          public_prefixes: z.array(z.string()),
        },
        annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      },
      ({ scope, limit }) => tool(() => ({ ...sharePreview(store, scope ?? DEFAULT_PREVIEW_SCOPE, limit ?? 20), public_prefixes: [...prefixes] })),
    ),
  ]
}
