/**
 * secretlint's rules created once and run on many texts. `lintSource` (@secretlint/core) builds a
 * rule context, a rule instance and an event listener for each of the preset's two dozen rules on
 * every call, and then discards them: that setup was four fifths of a memory's scan (26 µs of
 * CPU per short memory with it, 5 µs without, warm; measured), the patterns the rest. Here each
 * rule is created once through the same plugin contract the core uses (@secretlint/types: a
 * preset registers rules, a rule's `create(context, options)` returns its `file(source)` handler)
 * and its context reports into the scan that is running. What the core does to the reports is
 * done the same way: disable comments (ignore ranges), allowed message ids, duplicates, order by
 * range. test/store/secret-scan.test.ts holds the verdicts to lintSource's on every kind.
 *
 * A set of rules runs one text at a time: a rule that answered asynchronously would otherwise
 * report into another text's scan, so a scan that waits on one holds its set, and a scan that
 * starts meanwhile takes another from a small pool.
 */
import type {
  SecretLintCoreConfig,
  SecretLintCoreConfigRule,
  SecretLintCoreConfigRulePreset,
  SecretLintRuleCreator,
  SecretLintRuleLocalizeMessages,
  SecretLintRuleMessageTranslate,
  SecretLintRuleReportHandler,
  SecretLintSourceCode,
  SecretLintSourceNodeLocation,
  SecretLintSourceNodePosition,
} from '@secretlint/types'

/** One finding as lintSource reports it, without its location and (masked) data. */
export interface LintMessage {
  ruleId: string
  messageId: string
  message: string
  severity: string
  range: readonly [number, number]
}

interface Ignore {
  targetRuleId: string
  range: readonly [number, number]
}

/** The reports of the scan that is running. */
interface Sink {
  reported: LintMessage[]
  ignored: Ignore[]
}

interface PreparedRule {
  creator: SecretLintRuleCreator<unknown>
  handler: SecretLintRuleReportHandler
}

/** Rule sets kept for reuse; more only while that many scans wait on an asynchronous rule. */
const IDLE_RULE_SETS_MAX = 4

export interface PreparedLinter {
  /** What lintSource would report for `content` (messages sorted by range). */
  lint(content: string): Promise<LintMessage[]>
  /** How many sets of rules were created so far (each is the cost of one lintSource setup). */
  ruleSetsCreated(): number
}

/** A linter for `config`, its rules created at the first scan and reused by the next ones. */
export function preparedLinter(config: SecretLintCoreConfig): PreparedLinter {
  const idle: RuleSet[] = []
  let created = 0
  const release = (rules: RuleSet) => {
    if (idle.length < IDLE_RULE_SETS_MAX) idle.push(rules)
  }
  return {
    lint(content) {
      const rules = idle.pop() ?? (created++, new RuleSet(config))
      let out: LintMessage[] | Promise<LintMessage[]>
      try {
        out = rules.run(content)
      } catch (err) {
        release(rules)
        return Promise.reject(err)
      }
      // The preset's rules answer at once: the set is free again before anything else runs, so
      // scans started in the same turn (a group commit's) share it instead of each making one.
      if (!(out instanceof Promise)) {
        release(rules)
        return Promise.resolve(out)
      }
      return out.finally(() => release(rules))
    },
    ruleSetsCreated: () => created,
  }
}

/** Every rule of a config, created once, reporting into `sink` while a scan runs. */
class RuleSet {
  readonly rules: PreparedRule[] = []
  readonly allowed = new Set<string>()
  sink: Sink | null = null

  constructor(config: SecretLintCoreConfig) {
    const sharedOptions = config.sharedOptions ?? {}
    const add = (creator: SecretLintRuleCreator<unknown>, descriptor: Omit<SecretLintCoreConfigRule, 'rule'> | undefined) => {
      const ruleId = creator.meta.id
      if (descriptor?.disabled) return
      if (this.rules.some((r) => r.creator.meta.id === ruleId)) throw new Error(`secretlint rule ${ruleId} is registered twice`)
      const severity = descriptor?.severity ?? 'error'
      const context = {
        sharedOptions,
        createTranslator: translator,
        report: (d: { message: { message: string; messageId: string }; range: readonly [number, number] }) => {
          this.sink?.reported.push({ ruleId, messageId: d.message.messageId, message: d.message.message, severity, range: d.range })
        },
        ignore: (d: { targetRuleId: string; range: readonly [number, number] }) => {
          this.sink?.ignored.push({ targetRuleId: d.targetRuleId, range: d.range })
        },
      }
      for (const messageId of descriptor?.allowMessageIds ?? []) this.allowed.add(`${ruleId}--${messageId}`)
      this.rules.push({ creator, handler: creator.create(context, descriptor?.options || {}) })
    }
    for (const entry of config.rules) {
      if (entry.disabled) continue
      if (entry.rule.meta.type === 'preset') {
        const preset = entry as SecretLintCoreConfigRulePreset
        const configured = preset.rules ?? []
        preset.rule.create(
          {
            sharedOptions,
            registerRule: (rule) =>
              add(
                rule as SecretLintRuleCreator<unknown>,
                configured.find((d) => d.id === rule.meta.id),
              ),
          },
          preset.options || ([] as never),
        )
      } else if (entry.rule.meta.type === 'scanner') {
        const rule = entry as SecretLintCoreConfigRule
        add(rule.rule as SecretLintRuleCreator<unknown>, rule)
      } else {
        throw new Error(`secretlint rule ${entry.id} is neither a preset nor a scanner`)
      }
    }
  }

  /** The reports for `text`, or their promise when a rule answers asynchronously. */
  run(text: string): LintMessage[] | Promise<LintMessage[]> {
    const source = new TextSource(text)
    const sink: Sink = { reported: [], ignored: [] }
    this.sink = sink
    const pending: Promise<void>[] = []
    try {
      for (const { creator, handler } of this.rules) {
        const types = creator.meta.supportedContentTypes
        if (!handler.file || !(types.includes('all') || types.includes('text'))) continue
        const out = handler.file(source)
        if (out) pending.push(out)
      }
    } catch (err) {
      this.sink = null
      throw err
    }
    if (pending.length === 0) {
      this.sink = null
      return cleanup(sink, this.allowed)
    }
    return Promise.all(pending)
      .finally(() => {
        this.sink = null
      })
      .then(() => cleanup(sink, this.allowed))
  }
}

/** lintSource's clean-up of the reports: ignored ranges, allowed ids, duplicates, then by range. */
function cleanup({ reported, ignored }: Sink, allowed: ReadonlySet<string>): LintMessage[] {
  const within = (i: number, [start, end]: readonly [number, number]) => start <= i && i <= end
  const kept = reported.filter(
    (m) =>
      !ignored.some(
        (ig) => within(m.range[0], ig.range) && within(m.range[1], ig.range) && (ig.targetRuleId === '*' || ig.targetRuleId === m.ruleId || !ig.targetRuleId),
      ) && !allowed.has(`${m.ruleId}--${m.messageId}`),
  )
  // Of equal messages the last is kept, as the core does.
  const unique = kept.filter(
    (m, i) => !kept.slice(i + 1).some((o) => o.range[0] === m.range[0] && o.range[1] === m.range[1] && o.severity === m.severity && o.message === m.message),
  )
  return unique.sort((a, b) => a.range[0] - b.range[0] || a.range[1] - b.range[1])
}

/** The core's message translator for the default locale ("en"). */
function translator<T extends SecretLintRuleLocalizeMessages>(messages: T): SecretLintRuleMessageTranslate<T> {
  return ((messageId: string, props?: Record<string, unknown>) => {
    const handler = messages[messageId] as unknown
    if (!handler) throw new Error(`messages:${messageId} is missing in messages.`)
    const format = (typeof handler === 'function' ? handler : (handler as { en?: unknown }).en) as ((p?: unknown) => string) | undefined
    if (typeof format !== 'function') throw new Error(`message's key:${messageId}.en should be defined in messages.`)
    return { message: typeof props === 'object' && props !== null ? format(props) : format(), messageId, data: props }
  }) as SecretLintRuleMessageTranslate<T>
}

/** A memory's text as a rule reads it: a text file without a path on disk (lines counted only if a rule asks). */
class TextSource implements SecretLintSourceCode {
  readonly hasBOM: boolean
  readonly content: string
  readonly filePath = 'memory.txt'
  readonly physicalFilePath = undefined
  readonly contentType = 'text' as const
  readonly ext = '.txt'
  #lineStarts: number[] | undefined

  constructor(text: string) {
    this.hasBOM = text.charCodeAt(0) === 0xfeff
    this.content = this.hasBOM ? text.slice(1) : text
  }
  getFilePath() {
    return this.filePath
  }
  getPhysicalFilePath() {
    return this.physicalFilePath
  }
  locationToRange(loc: SecretLintSourceNodeLocation): readonly [number, number] {
    return [this.positionToIndex(loc.start), this.positionToIndex(loc.end)]
  }
  rangeToLocation(range: readonly [number, number]): SecretLintSourceNodeLocation {
    return { start: this.indexToPosition(range[0]), end: this.indexToPosition(range[1]) }
  }
  /** Lines from 1, columns from 0, as structured-source (the core's) counts them. */
  positionToIndex(pos: SecretLintSourceNodePosition): number {
    return this.#lines()[pos.line - 1]! + pos.column
  }
  indexToPosition(index: number): SecretLintSourceNodePosition {
    const starts = this.#lines()
    let [lo, hi] = [0, starts.length] // the first line start after index
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (starts[mid]! <= index) lo = mid + 1
      else hi = mid
    }
    return { line: lo, column: index - starts[lo - 1]! }
  }
  #lines(): number[] {
    if (this.#lineStarts) return this.#lineStarts
    const starts = [0]
    const text = this.content
    for (const m of text.matchAll(/\r\n|[\r\n\u2028\u2029]/g)) starts.push(m.index + m[0].length)
    this.#lineStarts = starts
    return starts
  }
}
