/** Project words for recall: names split sensibly, git remote and branch read, README title found. */
import { afterEach, expect, test } from 'bun:test'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { projectInfo, repoName, termsOf } from '../../src/mcp/project-terms'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

test.each([
  ['git@github.com:acme/widget-api.git', 'widget-api'],
  ['https://user:secret@gitlab.example.org/acme/widget-api', 'widget-api'],
  ['https://github.com/acme/widget-api.git/', 'widget-api'],
  ['/srv/git/pod.git', 'pod'],
])('repoName(%s) = %s', (remote, name) => {
  expect(repoName(remote)).toBe(name)
})

test('termsOf splits camelCase, kebab and snake case, drops stopwords, short words and duplicates', () => {
  expect(termsOf('billingService', 'widget-api', 'main', 'The Billing_Service README', null)).toEqual(['billing', 'service', 'widget', 'api'])
})

test('projectInfo reads the git top level, remote name, branch and README title', () => {
  const root = mkdtempSync(join(tmpdir(), 'mzm-proj-'))
  dirs.push(root)
  const repo = join(root, 'orca-tracker')
  mkdirSync(join(repo, 'src', 'deep'), { recursive: true })
  const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { stdio: 'ignore' })
  git('init', '-q', '-b', 'feature/sonar-ping')
  git('remote', 'add', 'origin', 'git@github.com:acme/whale-watch.git')
  writeFileSync(join(repo, 'README.md'), '<!-- badge -->\n# Pelagic Telemetry\n\ntext\n')
  const info = projectInfo(join(repo, 'src', 'deep'))
  expect(info).toMatchObject({ dir: repo, name: 'orca-tracker', remote: 'whale-watch', branch: 'feature/sonar-ping', readme_title: 'Pelagic Telemetry' })
  expect(info.terms).toEqual(['orca', 'tracker', 'whale', 'watch', 'sonar', 'ping', 'pelagic', 'telemetry'])
})

test('outside git, the directory name and a setext README title are used', () => {
  const root = mkdtempSync(join(tmpdir(), 'mzm-proj-'))
  dirs.push(root)
  const dir = join(root, 'kelp-farm')
  mkdirSync(dir)
  writeFileSync(join(dir, 'README'), 'Seaweed Yield\n=============\n')
  const info = projectInfo(dir)
  expect(info).toMatchObject({ name: 'kelp-farm', remote: null, branch: null, readme_title: 'Seaweed Yield' })
  expect(info.terms).toEqual(['kelp', 'farm', 'seaweed', 'yield'])
})
