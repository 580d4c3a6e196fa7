/**
 * Label globs for peer scopes: `*` matches any run of characters (also empty), `?` one
 * character, everything else is literal. `"*"` matches every label.
 */
const cache = new Map<string, RegExp>()

function toRegExp(glob: string): RegExp {
  let re = cache.get(glob)
  if (!re) {
    const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[\\s\\S]*').replace(/\?/g, '[\\s\\S]')
    re = new RegExp(`^${body}$`)
    if (cache.size > 1000) cache.clear()
    cache.set(glob, re)
  }
  return re
}

export function matchesGlob(text: string, glob: string): boolean {
  return toRegExp(glob).test(text)
}

export function matchesAny(text: string, globs: readonly string[]): boolean {
  return globs.some((g) => matchesGlob(text, g))
}
