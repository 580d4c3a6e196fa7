import { describe, expect, test } from 'bun:test'
import { lintSource } from '@secretlint/core'
import { secretLintProfiler } from '@secretlint/profiler'
import { StructuredSource } from 'structured-source'
import { createSecretScanner, SECRETLINT_CONFIG } from '../../src/store/secret-scan'
import { preparedLinter } from '../../src/store/secretlint-rules'
import { FAKE_SECRETS, LOOKALIKES } from './_fake-secrets'

// Assembled at run time, like _fake-secrets.ts, so that scanners reading this repository do not flag the file.
const j = (...parts: string[]) => parts.join('')
/** `n` characters of `alphabet`, the same on every run. */
function chars(n: number, alphabet: string, seed = 7): string {
  let x = seed
  let out = ''
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648
    out += alphabet[x % alphabet.length]
  }
  return out
}
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
const URLSAFE = `${ALNUM}_-`
const HEX = '0123456789abcdef'
/** A 1Password service-account token: base64 of a JSON object, ending in `fQ==`. */
function opsToken(): string {
  for (let pad = 0; ; pad++) {
    const b64 = btoa(JSON.stringify({ email: 'svc@example.invalid', secretKey: chars(60 + pad, ALNUM, 3), signInAddress: 'team.example.invalid' }))
    if (b64.endsWith('fQ==')) return j('ops_', b64)
  }
}

/** One text for each kind the recommended preset knows (each must be found). */
const KINDS: Record<string, string> = {
  ...FAKE_SECRETS,
  'AWS account id': j('aws_account_id', ' = ', '1234-5678-9012'),
  'npm token': j('npm_', chars(36, ALNUM)),
  'basic auth in a URL': j('https://deploy:', 'Xk9mQ2vLp7', '@build.example.com/artifacts'),
  'OpenAI key': j('sk-', chars(20, ALNUM), 'T3Blbk', 'FJ', chars(20, ALNUM, 5)),
  'Anthropic key': j('sk-ant-', 'api03-', chars(93, URLSAFE), 'AA'),
  'Groq key': j('gsk_', chars(52, ALNUM)),
  'Hugging Face token': j('hf_', chars(34, ALNUM.slice(0, 52))),
  'Linear key': j('lin_api_', chars(40, ALNUM)),
  'Notion token': j('ntn_', chars(11, '0123456789'), chars(35, ALNUM)),
  'SendGrid key': j('SG.', chars(22, ALNUM), '.', chars(43, ALNUM, 9)),
  'Shopify token': j('shpat_', chars(32, HEX)),
  'GitHub fine-grained token': j('github_pat_', chars(82, ALNUM)),
  'GitLab token': j('glpat-', chars(20, ALNUM)),
  'Grafana Cloud token': j('glc_', 'eyJ', chars(40, ALNUM)),
  'Grafana service account token': j('glsa_', chars(32, ALNUM), '_', chars(8, HEX)),
  '1Password token': opsToken(),
  'MongoDB URL': j('mongodb://admin:', 'S3cretMongoPw', '@mongo.internal:27017/app'),
  'MySQL URL': j('mysql://root:', 'S3cretMyPw', '@mysql.internal:3306/app'),
  'PostgreSQL URL': j('postgres://admin:', 'Sup3rS3cretPw', '@db.internal:5432/ledger'),
  'Vault service token': j('hvs.', chars(100, URLSAFE)),
  'Vault batch token': j('hvb.', chars(150, URLSAFE)),
  'Vault recovery token': j('hvr.', chars(100, URLSAFE)),
  'Vercel token': j('vcp_', chars(24, ALNUM)),
  'Databricks token': j('dapi', chars(32, HEX)),
  'Docker token': j('dckr_pat_', chars(27, URLSAFE)),
  'Figma token': j('figd_', chars(40, URLSAFE)),
}
const GH = FAKE_SECRETS['GitHub token']!
const SLACK = FAKE_SECRETS['Slack bot token']!
/** Texts whose verdicts depend on the core's handling around the rules. */
const AROUND: Record<string, string> = {
  'disable-next-line': j('// secretlint-', 'disable-next-line\n', GH),
  'disable-line': j(GH, ' // secretlint-', 'disable-line'),
  'disable one rule, then enable': j(
    '<!-- secretlint-',
    'disable @secretlint/secretlint-rule-github -->\n',
    GH,
    '\n',
    SLACK,
    '\n<!-- secretlint-',
    'enable -->\n',
    GH,
  ),
  'disable-line for another rule': j(GH, ' # secretlint-', 'disable-line @secretlint/secretlint-rule-aws'),
  'byte order mark first': j('\uFEFF', GH, ' then ', SLACK),
  'CRLF, CR and U+2028 lines': j('first\r\n', GH, '\rsecond\u2028', SLACK, '\r\n'),
  'the same token twice': j(GH, ' and again ', GH),
  'a label line and content': j('public:ci\n', KINDS['AWS secret access key']!),
  'a JSON service-account key': j('{"type": "service_account", "private_key": "-----BEGIN ', 'PRIVATE KEY-----\\nMIIE"}'),
  empty: '',
}

/** lintSource's verdict; its marks in secretlint's process-wide profiler are skipped (secret-holds.test.ts checks that scans leave none). */
async function reference(content: string) {
  const mark = secretLintProfiler.mark
  secretLintProfiler.mark = () => {}
  const result = await lintSource({
    source: { content, filePath: 'memory.txt', ext: '.txt', contentType: 'text' },
    options: { config: SECRETLINT_CONFIG, noPhysicFilePath: true, maskSecrets: true },
  }).finally(() => {
    secretLintProfiler.mark = mark
  })
  return result.messages.map(({ ruleId, messageId, severity, range }) => ({ ruleId, messageId, severity, range }))
}
const scanner = createSecretScanner()
const shown = async (content: string) => (await scanner.lint(content)).map(({ ruleId, messageId, severity, range }) => ({ ruleId, messageId, severity, range }))

const everything = Object.values(KINDS).join('\n')
const CORPUS: [string, string][] = [
  ...Object.entries(KINDS),
  ...Object.entries(LOOKALIKES),
  ...Object.entries(AROUND),
  ['every kind, one a line', everything],
  ['every kind, reversed, one space apart', Object.values(KINDS).reverse().join(' ')],
  ['every kind, then disabled from the middle', j(everything, '\n// secretlint-', 'disable\n', everything)],
]

describe('the reused scanner (rules created once) against lintSource', () => {
  test.each(Object.entries(KINDS))('lintSource finds a %s (the corpus exercises the rule)', async (_, text) => {
    expect((await reference(text)).length).toBeGreaterThan(0)
  })

  test('every verdict, rule, kind, severity, range and order is lintSource’s, scan after scan', async () => {
    for (let round = 0; round < 3; round++) {
      for (const [name, text] of CORPUS) expect({ name, got: await shown(text) }).toEqual({ name, got: await reference(text) })
    }
  })

  test('a linter made fresh for each text gives the same as the reused one', async () => {
    for (const [name, text] of CORPUS) {
      const fresh = await createSecretScanner().lint(text)
      expect({ name, got: await scanner.lint(text) }).toEqual({ name, got: fresh })
    }
  })

  test('still refuses a credential after thousands of clean scans, and clean text stays clean', async () => {
    const first = await scanner.scanText(GH)
    expect(first).toEqual([{ rule: 'github', kind: 'GITHUB_TOKEN' }])
    for (let i = 0; i < 3000; i++) expect(await scanner.scanText(`plain memory ${i} about the ledger`)).toEqual([])
    expect(await scanner.scanText(GH)).toEqual(first)
    expect(await scanner.scanText(`clean again ${GH.length}`)).toEqual([])
  })

  test('scans that overlap each report only their own text', async () => {
    const texts = Array.from({ length: 200 }, (_, i) => CORPUS[i % CORPUS.length]![1])
    const alone: Awaited<ReturnType<typeof scanner.lint>>[] = []
    for (const t of texts) alone.push(await scanner.lint(t))
    expect(await Promise.all(texts.map((t) => scanner.lint(t)))).toEqual(alone)
  })

  test('scans started in the same turn share one set of rules (a group commit builds no more)', async () => {
    const linter = preparedLinter(SECRETLINT_CONFIG)
    const texts = Array.from({ length: 200 }, (_, i) => CORPUS[i % CORPUS.length]![1])
    const together = await Promise.all(texts.map((t) => linter.lint(t)))
    expect(linter.ruleSetsCreated()).toBe(1)
    for (const [i, t] of texts.entries()) expect(together[i]).toEqual(await scanner.lint(t))
    expect(linter.ruleSetsCreated()).toBe(1)
  })

  test('a rule that answers later reports into its own scan, not one that started meanwhile', async () => {
    let wait = Promise.resolve()
    const late = {
      messages: { LATE: { en: (p?: { WHAT?: string }) => `late ${p?.WHAT}` } },
      meta: { id: 'late', type: 'scanner' as const, recommended: false, supportedContentTypes: ['text' as const] },
      create: (context: { report(d: unknown): void; createTranslator(m: unknown): (id: string, p?: unknown) => unknown }) => {
        const t = context.createTranslator(late.messages)
        return {
          async file(source: { content: string }) {
            await wait
            if (source.content.includes('secret')) context.report({ message: t('LATE', { WHAT: source.content }), range: [0, source.content.length] })
          },
        }
      },
    }
    const linter = preparedLinter({ rules: [{ id: 'late', rule: late as never }] })
    let release = () => {}
    wait = new Promise<void>((r) => (release = r))
    const a = linter.lint('a secret')
    const b = linter.lint('nothing here')
    release()
    expect((await a).map((m) => m.message)).toEqual(['late a secret'])
    expect(await b).toEqual([])
    expect(linter.ruleSetsCreated()).toBe(2) // the second scan could not wait for the first's set
  })

  test("a rule's line positions are counted as the core's structured-source counts them", async () => {
    const text = 'ab\r\ncd\ref\ngh\u2028ij\u2029\n\nk'
    let seen: unknown
    const probe = {
      messages: {},
      meta: { id: 'probe', type: 'scanner' as const, recommended: false, supportedContentTypes: ['text' as const] },
      create: () => ({
        file(source: { rangeToLocation(r: readonly [number, number]): unknown; positionToIndex(p: { line: number; column: number }): number }) {
          seen = Array.from({ length: text.length + 1 }, (_, i) => {
            const loc = source.rangeToLocation([i, i]) as { start: { line: number; column: number } }
            return [loc, source.positionToIndex(loc.start)]
          })
        },
      }),
    }
    await preparedLinter({ rules: [{ id: 'probe', rule: probe as never }] }).lint(text)
    const s = new StructuredSource(text)
    expect(seen).toEqual(Array.from({ length: text.length + 1 }, (_, i) => [s.rangeToLocation([i, i]), i]))
  })
})
