/**
 * A scope on the wire: one glob or an array of globs over labels, within the contract's limits
 * (16 globs of 1..128 characters). Matching itself is src/scope/ (linear time, no regex).
 * The same limits apply to what a peer sends and to what the operator configures.
 */
import * as v from 'valibot'
import { GLOB_MAX_CHARS, SCOPE_MAX_GLOBS } from './wire'

/** What is wrong with one glob against the limits (a phrase to follow its name), or null. */
export function globLimitProblem(glob: string): string | null {
  if (glob.length === 0) return 'must not be empty'
  if (glob.length > GLOB_MAX_CHARS) return `is ${glob.length} characters long (at most ${GLOB_MAX_CHARS})`
  return null
}

/**
 * What is wrong with a list of globs against the limits, or null: the one check of a scope's
 * limits, for what a peer sends and what the operator configures (peers.toml, the admin API).
 * `globProblem` adds a check of each glob; `name` says how a message names a glob (default: its
 * position).
 */
export function scopeLimitProblem(
  globs: readonly string[],
  opts: { globProblem?: (glob: string) => string | null; name?: (glob: string, index: number) => string } = {},
): string | null {
  if (globs.length === 0) return 'must have at least one glob'
  if (globs.length > SCOPE_MAX_GLOBS) return `has ${globs.length} globs (at most ${SCOPE_MAX_GLOBS})`
  for (let i = 0; i < globs.length; i++) {
    const glob = globs[i]!
    const problem = globLimitProblem(glob) ?? opts.globProblem?.(glob) ?? null
    if (problem) return `glob ${opts.name ? opts.name(glob, i) : i + 1} ${problem}`
  }
  return null
}

/** `"public:*"` or `["a:*", "b:*"]` as sent, always an array after parsing. */
export const WireScopeSchema = v.pipe(
  v.union([v.string(), v.array(v.string())], 'must be a glob string or an array of glob strings'),
  v.transform((s): string[] => (typeof s === 'string' ? [s] : s)),
  v.rawCheck<string[]>(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    const problem = scopeLimitProblem(dataset.value)
    if (problem) addIssue({ message: problem })
  }),
)
