/**
 * The credential scan of many memories at once (import), with each memory's verdict exactly what
 * scanner.scanMemory() alone would give. Each scan has a fixed cost (two dozen rules, each
 * starting its patterns: about 5 µs of CPU for one short memory, against under 1 µs per memory
 * in a joined text, measured), so the memories are joined into one text, one newline apart, and
 * scanned together. That text is only a sieve:
 *  - a memory that any hit touches (including a hit spanning two neighbours) is scanned again
 *    alone, and only that scan's findings count;
 *  - a memory the joined text cannot judge for it is scanned alone from the start: one naming
 *    `secretlint` (its disable/enable comments would switch the scan off or on for the memories
 *    after it) and one whose text may be a whole JSON object (the GCP service-account rule parses
 *    the whole text as JSON).
 * The rules' other patterns see a newline at a memory's edges in both cases, which no pattern
 * treats differently from the start or end of the text (import-memories.test.ts checks samples
 * against scanMemory, and secret-scan.test.ts holds the scanner to secretlint's lintSource).
 */
import type { SecretFinding, SecretScanner } from './secret-scan'

/** Characters of joined text per secretlint call: big enough to spread the fixed cost, small enough to stay cache-friendly. */
const JOINED_CHARS_MAX = 256 * 1024

/** Scanned alone: the joined text would judge it (or its neighbours) differently. */
function needsOwnScan(label: string, content: string): boolean {
  return /secretlint/i.test(label) || /secretlint/i.test(content) || /^\s*[{[]/.test(label)
}

/** Findings for each of `memories`, in order; empty where a memory looks clean. */
export async function scanMemories(scanner: SecretScanner, memories: readonly { label: string; content: string }[]): Promise<SecretFinding[][]> {
  const out: SecretFinding[][] = memories.map(() => [])
  const alone = new Set<number>()
  let group: { i: number; start: number; end: number }[] = []
  let text = ''
  const sieve = async () => {
    if (group.length === 0) return
    const hits = await scanner.lint(text)
    for (const { range } of hits) {
      // Every memory the hit touches, counting the newline on either side of it.
      for (const g of group) if (range[0] <= g.end && range[1] >= g.start) alone.add(g.i)
    }
    group = []
    text = ''
  }
  for (let i = 0; i < memories.length; i++) {
    const { label, content } = memories[i]!
    if (needsOwnScan(label, content)) {
      alone.add(i)
      continue
    }
    const piece = `${label}\n${content}`
    if (text.length > 0 && text.length + 1 + piece.length > JOINED_CHARS_MAX) await sieve()
    if (text.length > 0) text += '\n'
    group.push({ i, start: text.length, end: text.length + piece.length })
    text += piece
  }
  await sieve()
  for (const i of alone) out[i] = await scanner.scanMemory(memories[i]!.label, memories[i]!.content)
  return out
}
