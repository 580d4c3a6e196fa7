/**
 * Whether a scope change can only take labels away: every label `after` covers, `before`
 * covered too. Judged without enumerating labels, and conservatively (false means "maybe
 * wider", never "wider for sure"): a glob of `after` is covered when `before` has the same glob,
 * or a prefix glob `p*` (its only wildcard the last character) and the glob's literal start
 * (up to its first `*` or `?`) begins with `p`. `"*"` covers every glob.
 *
 * A puller keeps its cursor across a narrowing (the feed sent it everything the old scope
 * covered up to there) and pulls from the start only after a change that may widen.
 */
export function scopeNarrows(before: readonly string[], after: readonly string[]): boolean {
  const prefixes = before.filter(isPrefixGlob).map((g) => g.slice(0, -1))
  return after.every((g) => before.includes(g) || prefixes.some((p) => literalStart(g).startsWith(p)))
}

/** `p*` with no other wildcard (`*` alone included). */
function isPrefixGlob(glob: string): boolean {
  return glob.endsWith('*') && !/[*?]/.test(glob.slice(0, -1))
}

/** The characters every label the glob matches starts with. */
function literalStart(glob: string): string {
  const wild = glob.search(/[*?]/)
  return wild === -1 ? glob : glob.slice(0, wild)
}
