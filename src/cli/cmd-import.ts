/**
 * `mazemaker import <file> [--from jsonl|server-memory]`: memories from an export (JSON Lines,
 * plain or age-encrypted) or from the official MCP memory server's memory.jsonl, through the
 * pod's POST /memories/import in batches (each one transaction, scanned for credentials
 * together). An export is streamed, never held whole: a first read checks every line (a line
 * private at the source whose label is public here refuses the whole import unless --share), a
 * second imports. The pod skips memories already present (same label and content).
 */
import { readFileSync } from 'node:fs'
import { defineCommand } from 'citty'
import type { InferRequestType } from 'hono/client'
import { homePaths } from '../identity'
import { loadPodConfig } from '../config'
import { PodError } from '../lib/errors'
import { IMPORT_BATCH_MAX, isPublicLabel } from '../store'
import { parseJsonlLine } from '../backup/jsonl'
import { DEFAULT_KG_PREFIX, graphToMemories } from '../backup/server-memory'
import { answer, homeRoot, type GlobalFlags, type PodApi, type PodClient } from './context'
import { openImportSource, type ImportSource } from './import-source'
import { printJson, withPod } from './with-pod'
import { cliProgress } from './progress'

/**
 * Memories per request, each request one transaction: the most the pod takes. A commit waits for
 * the disk (the WAL synced, a few ms), so fewer, bigger batches go faster (500 took longer).
 */
const BATCH_LINES = IMPORT_BATCH_MAX
/**
 * Characters of JSON per request: a character is at most 3 bytes of UTF-8, so a batch stays under
 * the smallest body the pod accepts (1 MiB) in any script; a bigger single memory goes alone.
 */
const BATCH_CHARS = 320 * 1024
/** Bad lines and failures listed (all are counted). */
const LISTED_MAX = 1000

type ImportMemory = InferRequestType<PodApi['memories']['import']['$post']>['json']['memories'][number]
type SharingConfig = { public_prefixes: string[]; max_content_bytes: number }
type Problem = { line: number; message: string }

interface Survey {
  memories: number
  errors: Problem[]
  badLines: number
  note: string
}

/**
 * The first read: counts, bad lines, and the refusal. A line marked private where it was
 * exported, under a label that is public on this pod, would start being shared with every peer:
 * refused (the whole import, before anything is written) unless --share says so.
 */
async function surveyJsonl(source: ImportSource, share: boolean, config: SharingConfig): Promise<Survey> {
  const out: Survey = { memories: 0, errors: [], badLines: 0, note: '' }
  let pub = 0
  const madePublic: number[] = []
  let madePublicCount = 0
  const progress = cliProgress('import: checking', 'lines')
  for await (const { n, text } of source.lines()) {
    progress.add()
    const r = parseJsonlLine(text, n)
    if (r === null) continue
    if ('message' in r) {
      out.badLines++
      if (out.errors.length < LISTED_MAX) out.errors.push(r)
      continue
    }
    out.memories++
    if (!isPublicLabel(r.label, config.public_prefixes)) continue
    pub++
    if (r.private === true) {
      madePublicCount++
      if (madePublic.length < 10) madePublic.push(n)
    }
  }
  progress.finish()
  if (madePublicCount > 0 && !share) {
    const more = madePublicCount > madePublic.length ? ` and ${madePublicCount - madePublic.length} more` : ''
    throw new PodError(
      'usage',
      `${madePublicCount} memories were private where they were exported but their labels are public on this pod (line ${madePublic.join(', ')}${more}): importing them would share them with every peer. Nothing was imported; pass --share to share them, or re-label them in the file`,
    )
  }
  const shared = madePublicCount > 0 ? ` (${madePublicCount} of them private at the source, shared because of --share)` : ''
  out.note = `${pub} of ${out.memories} have public labels on this pod and are shared with peers${shared}; the rest stay private`
  return out
}

/** The second read: the valid lines as the pod takes them, with their line numbers. */
async function* jsonlMemories(source: ImportSource): AsyncGenerator<{ line: number; memory: ImportMemory; size: number }> {
  for await (const { n, text } of source.lines()) {
    const r = parseJsonlLine(text, n)
    if (r === null || 'message' in r) continue
    const { label, content, created_at, updated_at } = r
    // The line's own length bounds what the memory takes in the request (it holds the same fields, or more).
    const memory = { label, content, ...(created_at !== undefined ? { created_at } : {}), ...(updated_at !== undefined ? { updated_at } : {}) }
    yield { line: n, memory, size: text.length }
  }
}

/** Batches by count and by size; a memory bigger than a batch travels alone. */
async function* batches<T extends { memory: ImportMemory; size?: number }>(items: AsyncIterable<T>): AsyncGenerator<T[]> {
  let batch: T[] = []
  let chars = 0
  for await (const item of items) {
    const size = (item.size ?? JSON.stringify(item.memory).length) + 1
    if (batch.length > 0 && (batch.length >= BATCH_LINES || chars + size > BATCH_CHARS)) {
      yield batch
      batch = []
      chars = 0
    }
    batch.push(item)
    chars += size
  }
  if (batch.length > 0) yield batch
}

interface Sent {
  imported: number
  present: number
  held: number
  failed: { label: string; message: string }[]
  failedCount: number
}

/**
 * Sends the batches one request at a time, in order (the export is oldest first, and the feed
 * keeps the order of the writes), reading the next batch while the pod works on this one.
 */
async function send(pod: PodClient, items: AsyncIterable<{ memory: ImportMemory }>, total: number, dryRun: boolean): Promise<Sent> {
  const out: Sent = { imported: 0, present: 0, held: 0, failed: [], failedCount: 0 }
  const progress = cliProgress('import', 'memories', total)
  const post = async (batch: { memory: ImportMemory }[]) => {
    const memories = batch.map((b) => b.memory)
    let r: { imported: number; present: number; held: number; failed: { index: number; message: string }[] }
    try {
      r = await answer(pod.api.memories.import.$post({ json: { memories, ...(dryRun ? { dry_run: true } : {}) } }))
    } catch (err) {
      // The whole request failed (e.g. too large): every memory of it did.
      const message = err instanceof Error ? err.message : String(err)
      r = { imported: 0, present: 0, held: 0, failed: memories.map((_, index) => ({ index, message })) }
    }
    out.imported += r.imported
    out.present += r.present
    out.held += r.held
    out.failedCount += r.failed.length
    for (const f of r.failed) if (out.failed.length < LISTED_MAX) out.failed.push({ label: memories[f.index]!.label.slice(0, 80), message: f.message })
    progress.add(batch.length)
  }
  let inFlight: Promise<void> | null = null
  for await (const batch of batches(items)) {
    await inFlight
    inFlight = post(batch)
  }
  await inFlight
  progress.finish()
  return out
}

async function* listed<T>(items: T[]): AsyncGenerator<{ memory: T }> {
  for (const memory of items) yield { memory }
}

export function importCommand(flags: GlobalFlags) {
  return defineCommand({
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
      const dryRun = !!args['dry-run']
      const result = args.from === 'jsonl' ? await importJsonl(flags, args.file, !!args.share, dryRun) : await importGraph(flags, args, dryRun)
      if (args.json) printJson(result)
      else {
        const verb = dryRun ? `would import ${result.would_import}` : `imported ${result.imported}`
        console.log(`${verb} memories (${result.already_present} already present, ${result.failed_count} failed, ${result.bad_line_count} bad lines)`)
        console.log(result.note)
        if (result.held > 0) console.log(`${result.held} look like credentials and are held back from every peer (mazemaker memory held lists them)`)
        for (const e of result.bad_lines.slice(0, 20)) console.log(`  line ${e.line}: ${e.message}`)
        for (const f of result.failed.slice(0, 20)) console.log(`  ${f.label}: ${f.message}`)
      }
      if (result.failed_count > 0 || result.bad_line_count > 0) process.exitCode = 1
    },
  })
}

function summary(sent: Sent, total: number, dryRun: boolean, bad: Problem[], badCount: number, note: string) {
  return {
    imported: dryRun ? 0 : sent.imported,
    would_import: total - sent.present,
    already_present: sent.present,
    held: sent.held,
    failed: sent.failed,
    failed_count: sent.failedCount,
    bad_lines: bad,
    bad_line_count: badCount,
    note,
  }
}

async function importJsonl(flags: GlobalFlags, file: string, share: boolean, dryRun: boolean) {
  const source = await openImportSource(file)
  try {
    // Inside withPod: the home exists (and pod.toml with it) once its pod is found or started.
    return await withPod(flags, async (pod) => {
      const config = loadPodConfig(homePaths(homeRoot(flags)).podToml)
      const survey = await surveyJsonl(source, share, config)
      const sent = await send(pod, jsonlMemories(source), survey.memories, dryRun)
      return summary(sent, survey.memories, dryRun, survey.errors, survey.badLines, survey.note)
    })
  } finally {
    source.close()
  }
}

/** The MCP memory server's graph: entities gather their observations and relations, so it is read whole (it is small). */
async function importGraph(flags: GlobalFlags, args: { file: string; share?: boolean; 'label-prefix'?: string }, dryRun: boolean) {
  const text = args.file === '-' ? await new Response(process.stdin as unknown as ReadableStream).text() : readWhole(args.file)
  const prefix = args['label-prefix'] ?? DEFAULT_KG_PREFIX
  return withPod(flags, async (pod) => {
    const config = loadPodConfig(homePaths(homeRoot(flags)).podToml)
    const shared = isPublicLabel(`${prefix}x`, config.public_prefixes)
    if (shared && !args.share) {
      throw new PodError(
        'usage',
        `labels starting with "${prefix}" are public on this pod and would be shared with every peer; pass --share to do that, or choose a private --label-prefix`,
      )
    }
    const graph = graphToMemories(text, { prefix, maxContentBytes: config.max_content_bytes })
    const sharing = shared
      ? `labels start with "${prefix}", which is PUBLIC here: peers receive these memories`
      : `labels start with "${prefix}", which is private here: nothing is shared with peers (re-label a memory with a public prefix to share it)`
    const note = `${graph.entities} entities and ${graph.relations} relations → ${graph.memories.length} memories; ${sharing}`
    const sent = await send(pod, listed(graph.memories), graph.memories.length, dryRun)
    return summary(sent, graph.memories.length, dryRun, graph.errors, graph.errors.length, note)
  })
}

function readWhole(file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (err) {
    throw new PodError('usage', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
  }
}
