/**
 * export / import as JSON Lines, and import from the MCP memory server's knowledge graph, each
 * through the CLI against real homes. One encrypted export → import runs at age's full scrypt
 * work factor (what the CLI always writes); files the tests only need to feed to import are
 * sealed here at a low factor, which import reads from the file.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { armor, Encrypter } from 'age-encryption'
import { mainCommand, runCli, testEnv } from '../helpers/pod-process'
import { remember } from '../helpers/federation'
import { inProcessPod } from '../helpers/in-process-pod'
import { graphToMemories } from '../../src/backup/server-memory'

const PASS = { MAZEMAKER_BACKUP_PASSPHRASE: 'export passphrase for tests' }
let root: string
let src: string

const MEMORIES: [string, string][] = [
  ['decision:db', 'postgres for the ledger'],
  ['note:diary', 'private thoughts about the ledger'],
  ['public:multi', 'line one\nline two "quoted" ✓'],
]

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'mzm-export-'))
  src = newHome('src')
  // Written by a pod in this process, which then lets go of the home for the CLI's own pods.
  const pod = await inProcessPod({ home: src })
  for (const [label, content] of MEMORIES) await remember(pod, label, content)
  await pod.pod.close()
})
afterAll(() => rmSync(root, { recursive: true, force: true }))

/** An (empty) pod home: commands refuse a home that does not exist, and fill an empty one. */
function newHome(name: string): string {
  const home = join(root, name)
  mkdirSync(home, { recursive: true, mode: 0o700 })
  return home
}

type Exported = { label: string; content: string; private: boolean; created_at: string; updated_at: string }

/** A home's own memories as `export --plaintext` writes them (JSON Lines). */
async function plainExport(home: string): Promise<string> {
  const out = await runCli(['export', '--plaintext', '--home', home])
  expect(out.code).toBe(0)
  return out.stdout
}

/** Each exported memory without the pod-local id, sorted by label. */
function records(jsonl: string): Exported[] {
  return jsonl
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Exported & { id: string })
    .map(({ label, content, private: p, created_at, updated_at }) => ({ label, content, private: p, created_at, updated_at }))
    .sort((a, b) => a.label.localeCompare(b.label))
}

async function exportedRecords(home: string): Promise<Exported[]> {
  return records(await plainExport(home))
}

/** The scrypt work factor an age file names in its header (`-> scrypt <salt> <logN>`). */
function scryptWorkFactorOf(bytes: Uint8Array): number {
  const stanza = /^-> scrypt \S+ (\d+)$/m.exec(Buffer.from(bytes.subarray(0, 200)).toString('latin1'))
  if (!stanza) throw new Error('not an age file with a scrypt recipient')
  return Number(stanza[1])
}

describe('export / import', () => {
  test('with private memories the export is encrypted, 0600, and imports elsewhere completely and unchanged (times too); a second import adds nothing', async () => {
    const file = join(root, 'all.age')
    const out = await runCli(['export', file, '--home', src], PASS)
    expect(out.code).toBe(0)
    expect(out.stderr).toContain('exported 3 memories (1 private), encrypted with your passphrase')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const bytes = readFileSync(file)
    expect(bytes.subarray(0, 22).toString()).toBe('age-encryption.org/v1\n')
    expect(scryptWorkFactorOf(bytes)).toBe(18) // age's default: the shipped command never weakens the KDF
    expect(bytes.includes(Buffer.from('private thoughts'))).toBe(false)

    const dest = newHome('dest')
    const imported = await runCli(['import', file, '--home', dest], PASS)
    expect(imported.code).toBe(0)
    expect(imported.stdout).toContain('imported 3 memories (0 already present, 0 failed, 0 bad lines)')
    expect(imported.stdout).toContain('2 of 3 have public labels on this pod and are shared with peers')
    const [arrived, original] = await Promise.all([plainExport(dest), plainExport(src)])
    expect(records(arrived).map((m) => [m.label, m.content])).toEqual([...MEMORIES].sort())
    // The home's own memories, exported encrypted, arrive in a fresh home unchanged, times included.
    expect(records(arrived)).toEqual(records(original))

    // The same memories again, this time as an armored export (sealed here at a low work factor):
    // nothing is added.
    const e = new Encrypter()
    e.setScryptWorkFactor(10)
    e.setPassphrase(PASS.MAZEMAKER_BACKUP_PASSPHRASE)
    const armored = join(root, 'all.age.txt')
    writeFileSync(armored, armor.encode(await e.encrypt(original)))
    const again = await runCli(['import', armored, '--home', dest], PASS)
    expect(again.stdout).toContain('imported 0 memories (3 already present')
  }, 60_000)

  test('without a passphrase nothing private is written; --plaintext and --public-only say what they do', async () => {
    const none = await runCli(['export', join(root, 'x.age'), '--home', src])
    expect(none.code).toBe(2)
    expect(none.stderr).toContain('set MAZEMAKER_BACKUP_PASSPHRASE')
    const pub = await runCli(['export', '--public-only', '--home', src])
    expect(pub.code).toBe(0)
    const lines = pub.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(lines.map((l) => l.label).sort()).toEqual(['decision:db', 'public:multi'])
    expect(Object.keys(lines[0]).sort()).toEqual(['content', 'created_at', 'id', 'label', 'private', 'updated_at'])
    const noDir = await runCli(['export', '--public-only', join(root, 'missing', 'x.jsonl'), '--home', src])
    expect(noDir.code).toBe(1)
    expect(noDir.stderr).toBe(`error: cannot write ${join(root, 'missing', 'x.jsonl')} (ENOENT); check that its directory exists and is writable\n`)
    const plain = await runCli(['export', '--plaintext', '--home', src])
    expect(plain.stdout).toContain('private thoughts about the ledger')
    expect(plain.stderr).toContain('plain JSON Lines')
  }, 60_000)

  test('an import keeps the original created_at / updated_at', async () => {
    // Times from the past, so an import that stamped "now" could not pass by being quick.
    const old = join(root, 'old.jsonl')
    writeFileSync(
      old,
      [
        { label: 'decision:cache', content: 'redis, then not', created_at: '2019-03-04T05:06:07.089Z', updated_at: '2021-07-08T09:10:11.012Z' },
        { label: 'note:secret', content: 'private from 2020', created_at: '2020-01-02T03:04:05.000Z', updated_at: '2020-01-02T03:04:05.000Z' },
      ]
        .map((l) => JSON.stringify(l))
        .join('\n'),
    )
    const first = newHome('times-a')
    expect((await runCli(['import', old, '--home', first])).code).toBe(0)
    const a = await exportedRecords(first)
    expect(a).toEqual([
      { label: 'decision:cache', content: 'redis, then not', private: false, created_at: '2019-03-04T05:06:07.089Z', updated_at: '2021-07-08T09:10:11.012Z' },
      { label: 'note:secret', content: 'private from 2020', private: true, created_at: '2020-01-02T03:04:05.000Z', updated_at: '2020-01-02T03:04:05.000Z' },
    ])
  }, 60_000)

  test('a line with a bad timestamp fails alone, naming the field', async () => {
    const file = join(root, 'badtime.jsonl')
    writeFileSync(
      file,
      [
        '{"label":"public:ok","content":"fine","created_at":"2022-05-06T07:08:09.000Z"}',
        '{"label":"public:future","content":"x","created_at":"2999-01-01T00:00:00Z"}',
        '',
      ].join('\n'),
    )
    const home = newHome('badtime')
    const out = await runCli(['import', file, '--home', home])
    expect(out.code).toBe(1)
    expect(out.stdout).toContain('imported 1 memories (0 already present, 1 failed, 0 bad lines)')
    expect(out.stdout).toMatch(/public:future: .*created_at is in the future/)
    expect((await exportedRecords(home)).map((m) => m.created_at)).toEqual(['2022-05-06T07:08:09.000Z'])
  }, 60_000)

  test('import and export report progress on stderr (count of total), never on stdout', async () => {
    const file = join(root, 'progress.jsonl')
    writeFileSync(file, Array.from({ length: 1200 }, (_, i) => JSON.stringify({ label: `public:p${i}`, content: `progress ${i}` })).join('\n'))
    const home = newHome('progress')
    // 0: a plain line at every step (not a terminal), so the test sees them without waiting 10 s.
    const out = await runCli(['import', file, '--home', home], { MAZEMAKER_PROGRESS_MS: '0' })
    expect(out.code).toBe(0)
    // The lines are checked first (counted), then imported a batch at a time.
    expect(out.stderr).toContain('import: checking: 1,200 lines')
    expect(out.stderr).toContain('import: 1,000/1,200 memories (83 %)')
    expect(out.stderr).toContain('import: 1,200/1,200 memories (100 %)')
    expect(out.stderr).not.toContain('\r')
    expect(out.stdout).not.toContain('import:')
    const exported = await runCli(['export', '--home', home], { MAZEMAKER_PROGRESS_MS: '0' })
    expect(exported.stderr).toContain('export: 1,200 memories')
    expect(exported.stdout.trim().split('\n')).toHaveLength(1200)
  }, 60_000)

  test('a line repeated in the file is imported once (it was imported as often as it appeared)', async () => {
    const file = join(root, 'repeated.jsonl')
    const line = JSON.stringify({ label: 'note:twice', content: 'written down twice' })
    writeFileSync(file, [line, JSON.stringify({ label: 'public:once', content: 'once' }), line, ''].join('\n'))
    const home = newHome('repeated')
    const out = await runCli(['import', file, '--home', home])
    expect(out.code).toBe(0)
    expect(out.stdout).toContain('imported 2 memories (1 already present, 0 failed, 0 bad lines)')
    expect((await exportedRecords(home)).map((m) => m.label)).toEqual(['note:twice', 'public:once'])
  }, 60_000)

  test('an export on standard input is imported like a file, and nothing of it is left behind', async () => {
    const file = join(root, 'piped.jsonl')
    writeFileSync(
      file,
      [
        { label: 'public:piped', content: 'came through a pipe' },
        { label: 'note:piped', content: 'private, piped' },
      ]
        .map((l) => JSON.stringify(l))
        .join('\n'),
    )
    const home = newHome('piped')
    const tmp = mkdtempSync(join(root, 'tmp-'))
    const proc = Bun.spawn([...mainCommand(), 'import', '-', '--home', home], {
      env: testEnv({ TMPDIR: tmp }),
      stdin: Bun.file(file),
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited])
    expect(code).toBe(0)
    expect(stdout).toContain('imported 2 memories (0 already present, 0 failed, 0 bad lines)')
    expect(readdirSync(tmp)).toEqual([])
    expect((await exportedRecords(home)).map((m) => m.label)).toEqual(['note:piped', 'public:piped'])
  }, 60_000)

  test("lines of non-Latin text (3 bytes a character) are batched under the pod's body limit", async () => {
    const file = join(root, 'cjk.jsonl')
    // 600 lines of 1,000 characters: 1.8 MB of UTF-8, more than one request may carry.
    writeFileSync(file, Array.from({ length: 600 }, (_, i) => JSON.stringify({ label: `note:文${i}`, content: '記憶'.repeat(500) + i })).join('\n'))
    const home = newHome('cjk')
    const out = await runCli(['import', file, '--home', home])
    expect(out.stdout).toContain('imported 600 memories (0 already present, 0 failed, 0 bad lines)')
    expect(out.code).toBe(0)
  }, 60_000)

  test('bad lines are reported by number and the good ones still come in', async () => {
    const file = join(root, 'mixed.jsonl')
    writeFileSync(
      file,
      ['{"label":"public:ok","content":"fine"}', 'not json', '{"label":"peer:x:y","content":"reserved"}', '{"label":"public:nocontent"}', ''].join('\n'),
    )
    const out = await runCli(['import', file, '--home', newHome('mixed')])
    expect(out.code).toBe(1)
    expect(out.stdout).toContain('imported 1 memories (0 already present, 1 failed, 2 bad lines)')
    expect(out.stdout).toContain('line 2: not JSON')
    expect(out.stdout).toMatch(/line 4: .*content/)
    expect(out.stdout).toMatch(/peer:x:y: .*reserved for copies/)
  }, 60_000)
})

const GRAPH = [
  { type: 'entity', name: 'Alice', entityType: 'person', observations: ['works on the ledger', 'prefers tea'] },
  { type: 'entity', name: 'Ledger', entityType: 'project', observations: ['written in Go'] },
  { type: 'relation', from: 'Alice', to: 'Ledger', relationType: 'maintains' },
  { type: 'relation', from: 'Bob', to: 'Carol', relationType: 'knows' },
  { type: 'entity', name: 'Alice', entityType: 'person', observations: ['lives in Lyon'] },
]
  .map((l) => JSON.stringify(l))
  .concat(['{"type":"mystery"}'])
  .join('\n')

describe('import --from server-memory', () => {
  test('entities become private memories with their observations and relations; nothing is shared', async () => {
    const file = join(root, 'memory.jsonl')
    writeFileSync(file, GRAPH)
    const home = newHome('kg')
    const out = await runCli(['import', file, '--from', 'server-memory', '--home', home])
    expect(out.stdout).toContain('2 entities and 2 relations → 3 memories')
    expect(out.stdout).toContain('which is private here: nothing is shared with peers')
    expect(out.stdout).toContain('line 6: not an entity or relation')
    expect(out.code).toBe(1) // the bad line
    const listed = await runCli(['export', '--plaintext', '--home', home])
    const mems = listed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    const alice = mems.find((m) => m.label === 'kg:person:Alice')
    expect(alice).toMatchObject({ private: true })
    expect(alice.content).toBe('Alice (person)\n- works on the ledger\n- prefers tea\n- lives in Lyon\nRelations:\n- Alice —maintains→ Ledger')
    expect(mems.find((m) => m.label === 'kg:relations').content).toContain('Bob —knows→ Carol')
    const recall = await runCli(['recall', 'tea', '--home', home])
    expect(recall.stdout).toContain('kg:person:Alice')
    // Importing the same graph again adds nothing.
    expect((await runCli(['import', file, '--from', 'server-memory', '--home', home])).stdout).toContain('imported 0 memories (3 already present')
  }, 60_000)

  test('a public --label-prefix is refused unless --share says so', async () => {
    const file = join(root, 'memory2.jsonl')
    writeFileSync(file, GRAPH.split('\n').slice(0, 3).join('\n'))
    const home = newHome('kg2')
    const refused = await runCli(['import', file, '--from', 'server-memory', '--label-prefix', 'decision:', '--home', home])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain('are public on this pod and would be shared with every peer; pass --share')
    const shared = await runCli(['import', file, '--from', 'server-memory', '--label-prefix', 'decision:', '--share', '--home', home])
    expect(shared.code).toBe(0)
    expect(shared.stdout).toContain('which is PUBLIC here: peers receive these memories')
  }, 60_000)

  test('an entity too large for one memory is split into parts that each fit', () => {
    const observations = Array.from({ length: 50 }, (_, i) => `observation ${i} `.repeat(10))
    const text = JSON.stringify({ type: 'entity', name: 'Big', entityType: 'thing', observations })
    const { memories } = graphToMemories(text, { prefix: 'kg:', maxContentBytes: 1000 })
    expect(memories.length).toBeGreaterThan(5)
    expect(memories[0]!.label).toBe('kg:thing:Big')
    expect(memories[1]!.label).toBe('kg:thing:Big #2')
    for (const m of memories) {
      expect(Buffer.byteLength(m.content)).toBeLessThanOrEqual(1000)
      expect(m.content.startsWith('Big (thing)\n')).toBe(true)
    }
    const all = memories.map((m) => m.content).join('\n')
    for (const o of observations) expect(all).toContain(o)
  })
})
