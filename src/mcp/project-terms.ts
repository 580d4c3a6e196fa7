/**
 * What names the project an agent works in, as recall query words: the directory's name, the
 * git remote's repository name, the current branch and the README's title. Read from the disk
 * and `git` with short timeouts; anything missing is simply left out.
 */
import { execFileSync } from 'node:child_process'
import { closeSync, openSync, readSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'

export interface ProjectInfo {
  dir: string
  name: string
  remote: string | null
  branch: string | null
  readme_title: string | null
  /** Lowercase query words from all of the above, deduplicated. */
  terms: string[]
}

const MAX_TERMS = 16
const README_HEAD_BYTES = 4096
const GIT_TIMEOUT_MS = 1500
/** Words that name no project: they would match half of any store. */
const STOPWORDS: ReadonlySet<string> = new Set([
  'the',
  'and',
  'for',
  'with',
  'from',
  'into',
  'main',
  'master',
  'trunk',
  'develop',
  'dev',
  'head',
  'readme',
  'src',
  'app',
  'git',
  'com',
  'org',
  'www',
  'https',
  'http',
  'github',
  'gitlab',
  'project',
  'repo',
  'feature',
  'fix',
])

function git(dir: string, args: string[]): string | null {
  try {
    const out = execFileSync('git', ['-C', dir, ...args], { timeout: GIT_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'ignore'], encoding: 'utf8' })
    return out.trim() || null
  } catch {
    return null
  }
}

function readHead(path: string): string | null {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch {
    return null
  }
  try {
    const buf = Buffer.alloc(README_HEAD_BYTES)
    const n = readSync(fd, buf, 0, buf.length, 0)
    return buf.subarray(0, n).toString('utf8')
  } catch {
    return null
  } finally {
    closeSync(fd)
  }
}

/** First Markdown heading (`# Title` or a setext `Title\n===`) of the README, if any. */
function readmeTitle(dir: string): string | null {
  for (const name of ['README.md', 'README.markdown', 'README', 'readme.md', 'README.rst', 'README.txt']) {
    const head = readHead(join(dir, name))
    if (head === null) continue
    const lines = head.split(/\r?\n/)
    for (let i = 0; i < lines.length; i++) {
      const atx = /^#{1,2}\s+(.+?)\s*#*\s*$/.exec(lines[i]!)
      if (atx) return atx[1]!.slice(0, 120)
      if (lines[i]!.trim() && /^(=+|-+)\s*$/.test(lines[i + 1] ?? '')) return lines[i]!.trim().slice(0, 120)
    }
    return null
  }
  return null
}

/** `git@github.com:acme/widget-api.git` or `https://…/acme/widget-api` → `widget-api`. */
export function repoName(remote: string): string | null {
  const m = /([^/:]+?)(?:\.git)?\/?$/.exec(remote.trim())
  return m ? m[1]! : null
}

/** Query words from free text: split on non-letters and camelCase, lowercase, no stopwords. */
export function termsOf(...texts: (string | null)[]): string[] {
  const out: string[] = []
  for (const text of texts) {
    if (!text) continue
    const spaced = text.replace(/([\p{Ll}\p{N}])(\p{Lu})/gu, '$1 $2')
    for (const w of spaced.toLowerCase().split(/[^\p{L}\p{N}]+/u)) {
      if (w.length < 3 || /^\d+$/.test(w) || STOPWORDS.has(w) || out.includes(w)) continue
      out.push(w)
      if (out.length === MAX_TERMS) return out
    }
  }
  return out
}

export function projectInfo(dirInput: string): ProjectInfo {
  const dir = resolve(dirInput)
  const top = git(dir, ['rev-parse', '--show-toplevel'])
  const root = top ?? dir
  const remoteUrl = top ? git(dir, ['remote', 'get-url', 'origin']) : null
  // symbolic-ref also names an unborn branch (no commit yet); a detached HEAD has no name.
  const branch = top ? git(dir, ['symbolic-ref', '--short', '-q', 'HEAD']) : null
  const remote = remoteUrl ? repoName(remoteUrl) : null
  const name = basename(root)
  const title = readmeTitle(root)
  return { dir: root, name, remote, branch, readme_title: title, terms: termsOf(name, remote, branch, title) }
}

/** A project known only by name (the MCP resource template): its words are the query. */
export function projectInfoFromName(name: string): ProjectInfo {
  return { dir: '', name, remote: null, branch: null, readme_title: null, terms: termsOf(name) }
}
