/** `mazemaker context`: project-relevant memories first, then recent work, as text or JSON. */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli } from '../helpers/pod-process'

let root: string
let home: string
let project: string

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'mzm-ctx-'))
  home = join(root, 'home')
  project = join(root, 'checkout')
  mkdirSync(project)
  mkdirSync(home, { mode: 0o700 }) // the operator's home exists; remember fills it on first use
  execFileSync('git', ['-C', project, 'init', '-q', '-b', 'narwhal-migration'])
  execFileSync('git', ['-C', project, 'remote', 'add', 'origin', 'https://example.org/acme/tusk-ledger.git'])
  writeFileSync(join(project, 'README.md'), '# Tusk Ledger\n')
  for (const [label, content] of [
    ['decision:ledger-db', 'tusk ledger keeps balances in postgres'],
    ['bug:narwhal', 'the narwhal migration drops null rows'],
    ['note:lunch', 'order sandwiches on friday'],
    ['ops:backup', 'nightly backup at 03:00'],
  ]) {
    expect((await runCli(['remember', label!, content!, '--home', home])).code).toBe(0)
  }
}, 60_000)
afterAll(() => rmSync(root, { recursive: true, force: true }))

test('relevant memories come from the remote name, branch and README title; the rest is recent work', async () => {
  const out = await runCli(['context', '--project', project, '--home', home, '--limit', '5'])
  expect(out.code).toBe(0)
  const [, relevant, recent] = out.stdout.split(/^## /m)
  expect(relevant).toStartWith('Relevant to this project (checkout tusk ledger narwhal migration)')
  expect(relevant).toContain('[decision:ledger-db] tusk ledger keeps balances in postgres')
  expect(relevant).toContain('[bug:narwhal] the narwhal migration drops null rows')
  expect(relevant).not.toContain('sandwiches')
  expect(recent).toContain('[note:lunch] order sandwiches on friday')
  expect(recent).toContain('[ops:backup]')
  expect(recent).not.toContain('narwhal') // not repeated
  expect(out.stdout).toMatch(/Labels starting with public: auto: decision:.* are shared with paired pods/)
}, 30_000)

test('--json gives the same sections as data; --limit is checked', async () => {
  const out = await runCli(['context', '--project', project, '--home', home, '--json', '--limit', '1'])
  expect(out.code).toBe(0)
  const json = JSON.parse(out.stdout)
  expect(json.project).toMatchObject({ name: 'checkout', remote: 'tusk-ledger', branch: 'narwhal-migration', readme_title: 'Tusk Ledger' })
  expect(json.relevant).toHaveLength(1)
  expect(json.recent).toHaveLength(1)
  const bad = await runCli(['context', '--home', home, '--limit', '500'])
  expect(bad.code).toBe(2)
  expect(bad.stderr).toContain('--limit must be an integer from 1 to 50')
}, 30_000)
