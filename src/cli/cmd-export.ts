/**
 * `mazemaker export [file]`: own memories as JSON Lines; when any is private the file is
 * age-encrypted with a passphrase unless `--plaintext` says otherwise (or `--public-only` leaves
 * them out). `mazemaker import` (cmd-import.ts) reads such a file back.
 */
import type { MemoryPage } from '../http/answers'
import { defineCommand } from 'citty'
import { writeFileAtomic } from '../lib/atomic-file'
import { PodError } from '../lib/errors'
import type { Memory } from '../store'
import { checkPassphrase, SCRYPT_WORK_FACTOR } from '../backup'
import { toJsonl, type ExportLine } from '../backup/jsonl'
import { answer, type GlobalFlags, type PodClient } from './context'
import { backupPassphrase } from './prompt-secret'
import { withPod } from './with-pod'
import type { Progress } from '../lib/progress'
import { cliProgress } from './progress'
import { importCommand } from './cmd-import'

const PAGE = 500

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

  return { exportCmd, importCmd: importCommand(flags) }
}
