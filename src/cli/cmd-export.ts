/**
 * `mazemaker export [file]` and `mazemaker import <file> [--from jsonl|server-memory]`.
 * Export writes own memories as JSON Lines; when any is private the file is age-encrypted with
 * a passphrase unless `--plaintext` says otherwise (or `--public-only` leaves them out). Import
 * reads such a file (encrypted or not) or the official MCP memory server's memory.jsonl, skips
 * memories already present (same label and content), and goes through the pod's own API
 * (POST /memories with the export's created_at/updated_at, so memories keep their original times).
 */
import type { MemoryPage } from '../http/answers'
import { readFileSync } from 'node:fs'
import { defineCommand } from 'citty'
import type { InferRequestType } from 'hono/client'
import { homePaths } from '../identity'
import { loadPodConfig } from '../config'
import { writeFileAtomic } from '../lib/atomic-file'
import { PodError } from '../lib/errors'
import { isPublicLabel, type Memory } from '../store'
import { checkPassphrase, SCRYPT_WORK_FACTOR } from '../backup'
import { AGE_HEADER_MAX, AGE_MAGIC, checkAgeHeader } from '../backup/age-header'
import { memoryKey, parseJsonl, toJsonl, type ExportLine } from '../backup/jsonl'
import { DEFAULT_KG_PREFIX, graphToMemories } from '../backup/server-memory'
import { answer, homeRoot, type GlobalFlags, type PodApi, type PodClient } from './context'
import { backupPassphrase } from './prompt-secret'
import { printJson, withPod } from './with-pod'
import type { Progress } from '../lib/progress'
import { cliProgress } from './progress'

const PAGE = 500
const IMPORT_CONCURRENCY = 16

/** Every own memory, newest first, through the local API (content decrypted by the pod). */
async function ownMemories(pod: PodClient, progress?: Progress): Promise<Memory[]> {
  const out: Memory[] = []
  let cursor: string | null = null
  do {
    const page: MemoryPage = await answer(pod.api.memories.$get({ query: { origin: 'local', limit: String(PAGE), ...(cursor ? { cursor } : {}) } }))
    out.push(...page.memories)
    progress?.add(page.memories.length)
    cursor = page.cursor
  } while (cursor)
  progress?.finish()
  return out
}

async function readInput(file: string): Promise<Uint8Array> {
  if (file === '-') return new Uint8Array(await new Response(process.stdin as unknown as ReadableStream).arrayBuffer())
  try {
    return readFileSync(file)
  } catch (err) {
    throw new PodError('usage', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
  }
}

/** Plain text of an export: decrypted first when it is an age file (binary or armored). */
async function openExport(bytes: Uint8Array, file: string): Promise<string> {
  const head = new TextDecoder().decode(bytes.subarray(0, 64))
  const armored = head.startsWith('-----BEGIN AGE ENCRYPTED FILE-----')
  if (!armored && !head.startsWith(AGE_MAGIC)) return new TextDecoder().decode(bytes)
  const { Decrypter, armor } = await import('age-encryption') // loaded when used, not at start
  let sealed: Uint8Array
  try {
    sealed = armored ? armor.decode(new TextDecoder().decode(bytes)) : bytes
  } catch (err) {
    throw new PodError(
      'bad_backup',
      `the export is not valid armored age (${err instanceof Error ? err.message : err}); export it again with \`mazemaker export\``,
    )
  }
  // Before asking for the passphrase or deriving a key: the file, not us, chose its scrypt cost.
  checkAgeHeader(sealed.subarray(0, AGE_HEADER_MAX), { name: file, remedy: 're-export it with `mazemaker export`' })
  const d = new Decrypter()
  d.addPassphrase(await backupPassphrase(false))
  try {
    return await d.decrypt(sealed, 'text')
  } catch (err) {
    throw new PodError('bad_backup', `cannot decrypt the export: wrong passphrase or a damaged file (${err instanceof Error ? err.message : err})`)
  }
}

/** One memory to POST (the route's own body type); an export's original times ride along so the import keeps them. */
type ImportMemory = InferRequestType<PodApi['memories']['$post']>['json']

interface ImportPlan {
  memories: ImportMemory[]
  errors: { line: number; message: string }[]
  note: string
}

type SharingConfig = { public_prefixes: string[]; max_content_bytes: number }

/**
 * A line marked private where it was exported, under a label that is public on this pod, would
 * start being shared with every peer: refused (the whole import) unless --share says so.
 */
function planJsonl(text: string, share: boolean, config: SharingConfig): ImportPlan {
  const { memories, errors } = parseJsonl(text)
  const isPublic = (m: { label: string }) => isPublicLabel(m.label, config.public_prefixes)
  const madePublic = memories.filter((m) => m.private === true && isPublic(m))
  if (madePublic.length > 0 && !share) {
    const lines = madePublic.slice(0, 10).map((m) => m.line)
    const more = madePublic.length > lines.length ? ` and ${madePublic.length - lines.length} more` : ''
    throw new PodError(
      'usage',
      `${madePublic.length} memories were private where they were exported but their labels are public on this pod (line ${lines.join(', ')}${more}): importing them would share them with every peer. Nothing was imported; pass --share to share them, or re-label them in the file`,
    )
  }
  const pub = memories.filter(isPublic).length
  const shared = madePublic.length > 0 ? ` (${madePublic.length} of them private at the source, shared because of --share)` : ''
  return {
    memories: memories.map(({ private: _, ...m }) => m),
    errors,
    note: `${pub} of ${memories.length} have public labels on this pod and are shared with peers${shared}; the rest stay private`,
  }
}

/** Importing a knowledge graph must not start sharing by surprise: a public prefix needs --share. */
function planGraph(text: string, prefix: string, share: boolean, config: SharingConfig): ImportPlan {
  const shared = isPublicLabel(`${prefix}x`, config.public_prefixes)
  if (shared && !share) {
    throw new PodError(
      'usage',
      `labels starting with "${prefix}" are public on this pod and would be shared with every peer; pass --share to do that, or choose a private --label-prefix`,
    )
  }
  const graph = graphToMemories(text, { prefix, maxContentBytes: config.max_content_bytes })
  const sharing = shared
    ? `labels start with "${prefix}", which is PUBLIC here: peers receive these memories`
    : `labels start with "${prefix}", which is private here: nothing is shared with peers (re-label a memory with a public prefix to share it)`
  return {
    memories: graph.memories,
    errors: graph.errors,
    note: `${graph.entities} entities and ${graph.relations} relations → ${graph.memories.length} memories; ${sharing}`,
  }
}

/** POSTs each memory (a few at a time: the pod commits concurrent writes together); returns the failures. */
async function rememberAll(pod: PodClient, todo: ImportMemory[]): Promise<{ label: string; message: string }[]> {
  const failed: { label: string; message: string }[] = []
  const progress = cliProgress('import', 'memories', todo.length)
  let next = 0
  const worker = async () => {
    while (next < todo.length) {
      const m = todo[next++]!
      try {
        await answer(
          pod.api.memories.$post({
            json: {
              label: m.label,
              content: m.content,
              ...(m.created_at !== undefined ? { created_at: m.created_at } : {}),
              ...(m.updated_at !== undefined ? { updated_at: m.updated_at } : {}),
            },
          }),
        )
      } catch (err) {
        failed.push({ label: m.label.slice(0, 80), message: err instanceof Error ? err.message : String(err) })
      }
      progress.add()
    }
  }
  await Promise.all(Array.from({ length: IMPORT_CONCURRENCY }, worker))
  progress.finish()
  return failed
}

export function exportCommands(flags: GlobalFlags) {
  const exportCmd = defineCommand({
    meta: { name: 'export', description: 'Write own memories as JSON Lines (encrypted with a passphrase when any is private)' },
    args: {
      file: { type: 'positional', description: 'output file (created 0600); "-" or absent: standard output', required: false },
      plaintext: { type: 'boolean', description: 'write private memories decrypted, unencrypted (you take care of the file)' },
      'public-only': { type: 'boolean', description: 'leave private memories out (the file is then plain JSON Lines)' },
    },
    async run({ args }) {
      const memories = await withPod(flags, (pod) => ownMemories(pod, cliProgress('export', 'memories')))
      const lines: ExportLine[] = memories
        .filter((m) => !(args['public-only'] && m.encrypted))
        .reverse() // oldest first: an import then recreates them in their original order
        .map((m) => ({ id: m.id, label: m.label, content: m.content, private: m.encrypted, created_at: m.created_at, updated_at: m.updated_at }))
      const text = toJsonl(lines)
      const hasPrivate = lines.some((l) => l.private)
      const toStdout = !args.file || args.file === '-'
      let data: string | Uint8Array = text
      if (hasPrivate && !args.plaintext) {
        const { Encrypter, armor } = await import('age-encryption')
        const e = new Encrypter()
        e.setPassphrase(checkPassphrase(await backupPassphrase(true)))
        e.setScryptWorkFactor(SCRYPT_WORK_FACTOR)
        const sealed = await e.encrypt(text)
        // Armored on a terminal-free stdout too, so it survives pipes and copy-paste.
        data = toStdout ? armor.encode(sealed) : sealed
      }
      if (toStdout) process.stdout.write(data)
      else {
        try {
          writeFileAtomic(args.file!, data, 0o600)
        } catch (err) {
          throw new PodError(
            'export_failed',
            `cannot write ${args.file} (${(err as NodeJS.ErrnoException).code ?? String(err)}); check that its directory exists and is writable`,
          )
        }
      }
      const how = hasPrivate && !args.plaintext ? 'encrypted with your passphrase' : 'plain JSON Lines'
      process.stderr.write(`exported ${lines.length} memories (${lines.filter((l) => l.private).length} private), ${how}\n`)
    },
  })

  const importCmd = defineCommand({
    meta: { name: 'import', description: 'Import memories from an export (JSON Lines) or from the MCP memory server (--from server-memory)' },
    args: {
      file: { type: 'positional', description: 'the file to import ("-": standard input)', required: true },
      from: { type: 'string', description: 'jsonl (a mazemaker export, default) or server-memory (its memory.jsonl)', default: 'jsonl' },
      'label-prefix': { type: 'string', description: `server-memory: label prefix for imported entities (default ${DEFAULT_KG_PREFIX}, private)` },
      share: {
        type: 'boolean',
        description: 'share what would otherwise be refused: lines marked private whose labels are public here, or a public --label-prefix (server-memory)',
      },
      'dry-run': { type: 'boolean', description: 'show what would be imported, change nothing' },
      json: { type: 'boolean', description: 'print JSON' },
    },
    async run({ args }) {
      if (args.from !== 'jsonl' && args.from !== 'server-memory') throw new PodError('usage', `--from must be jsonl or server-memory, got ${args.from}`)
      const bytes = await readInput(args.file)
      const text =
        args.from === 'jsonl' ? await openExport(bytes, args.file === '-' ? 'the export on standard input' : args.file) : new TextDecoder().decode(bytes)
      // Inside withPod: the home exists (and pod.toml with it) once its pod is found or started.
      const result = await withPod(flags, async (pod) => {
        const config = loadPodConfig(homePaths(homeRoot(flags)).podToml)
        const plan =
          args.from === 'server-memory'
            ? planGraph(text, args['label-prefix'] ?? DEFAULT_KG_PREFIX, !!args.share, config)
            : planJsonl(text, !!args.share, config)
        const present = new Set(
          (await ownMemories(pod, cliProgress('import: reading what is already here', 'memories'))).map((m) => memoryKey(m.label, m.content)),
        )
        const todo = plan.memories.filter((m) => !present.has(memoryKey(m.label, m.content)))
        const failed = args['dry-run'] ? [] : await rememberAll(pod, todo)
        return {
          imported: args['dry-run'] ? 0 : todo.length - failed.length,
          would_import: todo.length,
          already_present: plan.memories.length - todo.length,
          failed,
          bad_lines: plan.errors,
          note: plan.note,
        }
      })
      if (args.json) printJson(result)
      else {
        const verb = args['dry-run'] ? `would import ${result.would_import}` : `imported ${result.imported}`
        console.log(`${verb} memories (${result.already_present} already present, ${result.failed.length} failed, ${result.bad_lines.length} bad lines)`)
        console.log(result.note)
        for (const e of result.bad_lines.slice(0, 20)) console.log(`  line ${e.line}: ${e.message}`)
        for (const f of result.failed.slice(0, 20)) console.log(`  ${f.label}: ${f.message}`)
      }
      if (result.failed.length > 0 || result.bad_lines.length > 0) process.exitCode = 1
    },
  })
  return { exportCmd, importCmd }
}
