/**
 * Does a memory's text look like a credential? secretlint's recommended preset (AWS, GCP,
 * GitHub, Slack, private key blocks, npm, OpenAI, Anthropic, database URLs …) decides; we keep no
 * patterns of our own. The scan is async, so it runs when a memory is written and its verdict is
 * stored as the row's `held` flag: the gate (gate.ts) stays synchronous and only reads the flag.
 * The preset is imported statically, so `bun build --compile` bundles it (no rule is loaded by name).
 * Each store has one scanner (StoreContext.scanner) whose rules are created once and reused by
 * every scan (secretlint-rules.ts); its verdicts are lintSource's own (secret-scan.test.ts).
 */
import { creator as recommended } from '@secretlint/secretlint-rule-preset-recommend'
import type { SecretLintCoreConfig } from '@secretlint/types'
import { type LintMessage, preparedLinter } from './secretlint-rules'

/** One thing the scanner found: which rule and what kind, never the matched text. */
export interface SecretFinding {
  rule: string
  kind: string
}

/** The scanner's secretlint configuration (exported so tests can run lintSource on it too). */
export const SECRETLINT_CONFIG: SecretLintCoreConfig = {
  rules: [
    {
      id: recommended.meta.id,
      rule: recommended,
      // An AWS access key id alone (AKIA…) is worth holding too; the preset scans it only when asked.
      rules: [{ id: '@secretlint/secretlint-rule-aws', options: { enableIDScanRule: true } }],
    },
  ],
}

/** The credential scanner of one store (its rules are created at the first scan and reused). */
export interface SecretScanner {
  /**
   * Findings in a memory: its label and its content, both of which a peer receives. One scan of
   * the two as lines of one text (a label holds no newline).
   */
  scanMemory(label: string, content: string): Promise<SecretFinding[]>
  /** Findings in `content`, empty when it looks clean. Never throws for odd text; the text is not logged. */
  scanText(content: string): Promise<SecretFinding[]>
  /** What secretlint reported in `content`: each rule hit with its [start, end) range in the text. */
  lint(content: string): Promise<LintMessage[]>
}

export function createSecretScanner(): SecretScanner {
  const linter = preparedLinter(SECRETLINT_CONFIG)
  const scanText = async (content: string) => findingsOf(await linter.lint(content))
  return {
    scanMemory: (label, content) => scanText(`${label}\n${content}`),
    scanText,
    lint: (content) => linter.lint(content),
  }
}

/** One finding per rule and kind, in the order of the text. */
function findingsOf(messages: readonly LintMessage[]): SecretFinding[] {
  const seen = new Set<string>()
  const findings: SecretFinding[] = []
  for (const m of messages) {
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
