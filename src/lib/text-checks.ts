/**
 * Text checks shared by pod.toml, handshake URLs and peers.toml: display names, http(s) URLs,
 * origins, TOML parse errors that say where. Each `…Problem` function returns what is wrong (a
 * phrase to put after the field's name) or null, so every caller can word its own error around it.
 */
import * as v from 'valibot'
import { parse, TomlError } from 'smol-toml'
import { httpUrlProblem } from './http-url'

export const NAME_MAX_CHARS = 64

// C0/C1 controls, plus line/paragraph separators and bidi overrides: they would let a name or
// URL forge extra lines in TOML, logs or the panel, or render differently from its bytes.
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/

export function hasControlChars(text: string): boolean {
  return CONTROL_RE.test(text)
}

/** Display name of a pod or peer: 1..64 characters (0..64 with allowEmpty), no control characters. */
export function nameProblem(name: string, opts: { allowEmpty?: boolean } = {}): string | null {
  const chars = [...name].length
  if (chars === 0) return opts.allowEmpty ? null : 'must not be empty'
  if (chars > NAME_MAX_CHARS) return `is ${chars} characters long (at most ${NAME_MAX_CHARS})`
  if (hasControlChars(name)) return 'must not contain control characters or line breaks'
  return null
}

/** The one rule for reachable http(s) URLs lives in src/lib/http-url.ts (the rendezvous uses it too). */
export { httpUrlProblem }

/** A browser origin such as `https://panel.example:8443` (scheme, host, optional port; nothing else). */
export function originProblem(text: string): string | null {
  const problem = httpUrlProblem(text)
  if (problem) return problem
  if (new URL(text).origin !== text) return 'must be an origin like https://host:port (lowercase, no path or trailing slash)'
  return null
}

/** valibot action running one of the checks above on a string. */
export function checkWith(problem: (text: string) => string | null) {
  return v.rawCheck<string>(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    const found = problem(dataset.value)
    if (found) addIssue({ message: found })
  })
}

/** `path: message` for each valibot issue, with plain words for unknown and missing keys. */
export function describeIssues(issues: readonly v.BaseIssue<unknown>[]): string[] {
  return issues.map((issue) => {
    const path = v.getDotPath(issue)
    let message = issue.message
    if (issue.type === 'strict_object' && issue.expected === 'never') message = 'unknown key (check the spelling)'
    else if (issue.kind === 'schema' && issue.received === 'undefined' && issue.message.startsWith('Invalid key')) message = 'is required'
    return path ? `${path}: ${message}` : message
  })
}

/** Quotes a user-supplied value for an error message: bounded, control characters escaped. */
export function quote(text: string, max = 80): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text
  return JSON.stringify(cut)
}

/** smol-toml parse whose error says where: `line 3, column 5: <what>` (the caller names the file). */
export function parseTomlText(text: string): unknown {
  try {
    return parse(text)
  } catch (err) {
    const where = err instanceof TomlError ? `line ${err.line}, column ${err.column}: ` : ''
    const what = err instanceof Error ? err.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '') : String(err)
    throw new Error(`${where}${what}`, { cause: err })
  }
}
