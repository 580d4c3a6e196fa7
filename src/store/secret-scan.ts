/**
 * Does a memory's text look like a credential? secretlint's recommended preset (AWS, GCP,
 * GitHub, Slack, private key blocks, npm, OpenAI, Anthropic, database URLs …) decides; we keep no
 * patterns of our own. The scan is async, so it runs when a memory is written and its verdict is
 * stored as the row's `held` flag: the gate (gate.ts) stays synchronous and only reads the flag.
 * The preset is imported statically, so `bun build --compile` bundles it (no rule is loaded by name).
 */
import { lintSource } from '@secretlint/core'
import { secretLintProfiler } from '@secretlint/profiler'
import { creator as recommended } from '@secretlint/secretlint-rule-preset-recommend'
import type { SecretLintCoreConfig } from '@secretlint/types'

// secretlint's core marks every lint in a process-wide profiler (@secretlint/profiler) that keeps
// each performance mark and entry forever and searches them all on every new one: in a pod that
// scans every write, memory grows without bound and each scan slows the event loop a little more
// (a remember took 10-80 ms after a few hundred scans, measured). We never read the profile.
secretLintProfiler.mark = () => {}

/** One thing the scanner found: which rule and what kind, never the matched text. */
export interface SecretFinding {
  rule: string
  kind: string
}

const CONFIG: SecretLintCoreConfig = {
  rules: [
    {
      id: recommended.meta.id,
      rule: recommended,
      // An AWS access key id alone (AKIA…) is worth holding too; the preset scans it only when asked.
      rules: [{ id: '@secretlint/secretlint-rule-aws', options: { enableIDScanRule: true } }],
    },
  ],
}

/**
 * Findings in a memory: its label and its content, both of which a peer receives. One scan of
 * the two as lines of one text (a label holds no newline).
 */
export function scanMemory(label: string, content: string): Promise<SecretFinding[]> {
  return scanForSecrets(`${label}\n${content}`)
}

/** What secretlint reported in `content`: each rule hit with its [start, end) range in the text. */
export async function lintMessages(content: string): Promise<{ ruleId: string; messageId: string; range: readonly [number, number] }[]> {
  const result = await lintSource({
    source: { content, filePath: 'memory.txt', ext: '.txt', contentType: 'text' },
    options: { config: CONFIG, noPhysicFilePath: true, maskSecrets: true },
  })
  return result.messages
}

/** Findings in `content`, empty when it looks clean. Never throws for odd text; the text is not logged. */
export async function scanForSecrets(content: string): Promise<SecretFinding[]> {
  const seen = new Set<string>()
  const findings: SecretFinding[] = []
  for (const m of await lintMessages(content)) {
    const rule = m.ruleId.replace(/^@secretlint\/secretlint-rule-/, '')
    const key = `${rule}:${m.messageId}`
    if (seen.has(key)) continue
    seen.add(key)
    findings.push({ rule, kind: m.messageId })
  }
  return findings
}

/** A one-line warning naming what was found (kinds only, never the text). */
export function heldWarning(findings: SecretFinding[]): string {
  const kinds = findings.map((f) => f.kind).join(', ')
  return `label or content looks like a credential (${kinds}); held back from every peer until you release it (mazemaker memory release <id>)`
}
