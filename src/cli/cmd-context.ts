/**
 * `mazemaker context [--project DIR] [--limit N] [--json]`: the memories an agent should start a
 * session with (relevant to the project, then recent work), printed for Claude Code's
 * `SessionStart` hook, whose stdout becomes session context. Same content as the MCP resource
 * `mazemaker://context`.
 */
import { defineCommand } from 'citty'
import { homePaths } from '../identity'
import { loadPodConfig } from '../config'
import { PodError } from '../lib/errors'
import { visible } from '../lib/visible'
import { projectInfo } from '../mcp/project-terms'
import { CONTEXT_LIMIT_DEFAULT, CONTEXT_LIMIT_MAX, sessionContext } from '../mcp/session-context'
import { answer, homeRoot, type GlobalFlags } from './context'
import { printJson, withPod } from './with-pod'

export function contextCommand(flags: GlobalFlags) {
  return defineCommand({
    meta: { name: 'context', description: 'Print the memories relevant to this project and recent work (for a SessionStart hook)' },
    args: {
      project: { type: 'string', description: 'project directory (default: $CLAUDE_PROJECT_DIR, else the working directory)' },
      limit: { type: 'string', description: `memories per section, 1..${CONTEXT_LIMIT_MAX}`, default: String(CONTEXT_LIMIT_DEFAULT) },
      json: { type: 'boolean', description: 'print JSON (project, query, relevant, recent, text)' },
    },
    async run({ args }) {
      const limit = Number(args.limit)
      if (!/^\d+$/.test(args.limit) || limit < 1 || limit > CONTEXT_LIMIT_MAX) {
        throw new PodError('usage', `--limit must be an integer from 1 to ${CONTEXT_LIMIT_MAX}, got ${args.limit}`)
      }
      const project = projectInfo(args.project ?? (process.env.CLAUDE_PROJECT_DIR || process.cwd()))
      const out = await withPod(flags, async (pod) => {
        const prefixes = loadPodConfig(homePaths(homeRoot(flags)).podToml).public_prefixes
        return sessionContext(
          {
            recall: async (q, k) => (await answer(pod.api.recall.$get({ query: { q, k: String(k) } }))).results,
            list: (o) => answer(pod.api.memories.$get({ query: { limit: String(o.limit) } })),
          },
          project,
          limit,
          prefixes,
        )
      })
      if (args.json) return printJson(out)
      // Memories (a peer's copies too) reach a terminal or an agent's context: no raw escapes or bidi.
      process.stdout.write(visible(out.text, { multiline: true }))
    },
  })
}
