/**
 * Reads the client configurations out of docs/agents.md: every server in a ```json block and
 * every `claude mcp add` line in a ```sh block, as written, so tests launch what the doc says.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export interface StdioConfig {
  where: string
  command: string
  args: string[]
  env: Record<string, string>
}
export interface HttpConfig {
  where: string
  url: string
  headers: Record<string, string>
}
export interface HookConfig {
  where: string
  command: string
}

export const AGENTS_DOC = join(import.meta.dir, '..', '..', 'docs', 'agents.md')

function blocks(doc: string, lang: string): { heading: string; body: string }[] {
  const out: { heading: string; body: string }[] = []
  let heading = ''
  const re = new RegExp('^## (.+)$|^```' + lang + '\\n([\\s\\S]*?)^```$', 'gm')
  for (const m of doc.matchAll(re)) {
    if (m[1]) heading = m[1]
    else out.push({ heading, body: m[2]! })
  }
  return out
}

/** `a "b c" 'd'` → [a, b c, d] (what a POSIX shell does with simple quoting). */
function shellWords(line: string): string[] {
  return [...line.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!)
}

export function docConfigs(doc = readFileSync(AGENTS_DOC, 'utf8')) {
  const stdio: StdioConfig[] = []
  const http: HttpConfig[] = []
  const hooks: HookConfig[] = []
  for (const { heading, body } of blocks(doc, 'json')) {
    const json = JSON.parse(body) as {
      mcpServers?: Record<string, any>
      servers?: Record<string, any>
      hooks?: Record<string, { hooks: { type: string; command: string }[] }[]>
    }
    for (const [name, s] of Object.entries({ ...json.mcpServers, ...json.servers })) {
      const where = `${heading} json ${name}`
      if (s.command) stdio.push({ where, command: s.command, args: s.args ?? [], env: s.env ?? {} })
      else if (s.url) http.push({ where, url: s.url, headers: s.headers ?? {} })
    }
    for (const [event, matchers] of Object.entries(json.hooks ?? {})) {
      for (const m of matchers) for (const h of m.hooks) hooks.push({ where: `${heading} ${event}`, command: h.command })
    }
  }
  for (const { heading, body } of blocks(doc, 'sh')) {
    for (const line of body.split('\n')) {
      if (!line.startsWith('claude mcp add')) continue
      const words = shellWords(line)
      const dashes = words.indexOf('--')
      if (dashes >= 0) {
        stdio.push({ where: `${heading} sh`, command: words[dashes + 1]!, args: words.slice(dashes + 2), env: {} })
        continue
      }
      const url = words.find((w) => /^https?:\/\//.test(w))!
      const headers: Record<string, string> = {}
      words.forEach((w, i) => {
        if (w !== '--header') return
        const [k, ...v] = words[i + 1]!.split(':')
        headers[k!.trim()] = v.join(':').trim()
      })
      http.push({ where: `${heading} sh`, url, headers })
    }
  }
  return { stdio, http, hooks }
}
