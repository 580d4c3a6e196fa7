/**
 * The npm packages of a release, published to a private registry (Verdaccio on 127.0.0.1, no
 * uplinks) and used the way a first-time user would, from a clean HOME and an empty npm cache:
 * `npx -y mazemaker@<version> --version`, the stdio MCP server through `npx -y mazemaker mcp` with
 * the official SDK client, and an install from the tarballs alone with no registry at all.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { RELEASE_TARGETS } from '../../build/targets'
import { freshRelease, releasePath, type ReleaseStamp } from '../helpers/release'
import { spawnPod } from '../helpers/pod-process'
import { npmEnv, startRegistry, type Registry } from '../helpers/verdaccio'

/** npm installs of a 55 MB package and Verdaccio's start: seconds idle, minutes on a loaded machine. */
const NPM_TIMEOUT_MS = 600_000

let stamp: ReleaseStamp
let scratch: string
let registry: Registry

interface Run {
  code: number
  stdout: string
  stderr: string
}

async function run(cmd: string[], env: Record<string, string>, cwd: string): Promise<Run> {
  const proc = Bun.spawn(cmd, { env, cwd, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { code, stdout, stderr }
}

const tarball = (name: string) => releasePath('npm', `${name}-${stamp.version}.tgz`)

beforeAll(async () => {
  stamp = freshRelease()
  scratch = mkdtempSync(join(tmpdir(), 'mzm-npm-'))
  registry = await startRegistry(join(scratch, 'registry'))
  // The publisher: platform packages first, then the launcher that names them.
  const publisher = join(scratch, 'publisher')
  const env = npmEnv(publisher, registry)
  for (const t of RELEASE_TARGETS) {
    const r = await run(['npm', 'publish', tarball(`mazemaker-${t.name}`)], env, publisher)
    if (r.code !== 0) throw new Error(`npm publish @mazemaker/${t.name} failed:\n${r.stderr}`)
  }
  const r = await run(['npm', 'publish', tarball('mazemaker')], env, publisher)
  if (r.code !== 0) throw new Error(`npm publish mazemaker failed:\n${r.stderr}`)
}, NPM_TIMEOUT_MS)

afterAll(async () => {
  await registry?.stop()
  rmSync(scratch, { recursive: true, force: true })
})

describe('published to a registry', () => {
  test('every package is there at the release version', async () => {
    for (const name of ['mazemaker', ...RELEASE_TARGETS.map((t) => `@mazemaker/${t.name}`)]) {
      const res = await fetch(`${registry.url}/${name.replace('/', '%2f')}`)
      expect(`${name} ${res.status}`).toBe(`${name} 200`)
      const doc = (await res.json()) as { 'dist-tags': { latest: string } }
      expect(doc['dist-tags'].latest).toBe(stamp.version)
    }
  })

  test(
    'npx -y mazemaker@<version> --version from a clean HOME fetches this platform’s binary only, and runs it',
    async () => {
      const user = join(scratch, 'user-version')
      const r = await run(['npx', '-y', `mazemaker@${stamp.version}`, '--version'], npmEnv(user, registry), user)
      expect(r.stdout).toBe(`mazemaker ${stamp.version} (commit ${stamp.commit}, linux-x64)\n`)
      expect(r.code).toBe(0)
      // npx's install holds the launcher and linux-x64; npm skipped the other platforms (os/cpu).
      const npx = join(user, '.npm', '_npx')
      const [install] = readdirSync(npx)
      expect(readdirSync(join(npx, install!, 'node_modules', '@mazemaker'))).toEqual(['linux-x64'])
    },
    NPM_TIMEOUT_MS,
  )

  test(
    '`npx -y mazemaker mcp` is an MCP server on stdio: the SDK client lists the tools, remembers and recalls',
    async () => {
      const user = join(scratch, 'user-mcp')
      // The pod's home exists (as after `mazemaker serve` once); no pod runs, so the stdio server opens it itself.
      const home = join(user, '.mazemaker')
      mkdirSync(user, { recursive: true })
      const pod = await spawnPod({ home })
      expect(await pod.stop()).toBe(0)

      const transport = new StdioClientTransport({
        command: 'npx',
        args: ['-y', `mazemaker@${stamp.version}`, 'mcp'],
        env: npmEnv(user, registry),
        cwd: user,
        stderr: 'pipe',
      })
      const client = new Client({ name: 'npx-test', version: '1.0.0' })
      await client.connect(transport)
      try {
        expect(client.getServerVersion()).toMatchObject({ name: 'mazemaker', version: stamp.version })
        const { tools } = await client.listTools()
        expect(tools.map((t) => t.name)).toContain('mazemaker_remember')
        const saved = await client.callTool({
          name: 'mazemaker_remember',
          arguments: { label: 'note:npx', content: 'installed by npx from a private registry' },
        })
        expect(saved.isError).toBeFalsy()
        const found = await client.callTool({ name: 'mazemaker_recall', arguments: { query: 'private registry' } })
        expect((found.structuredContent as { results: { label: string }[] }).results.map((r) => r.label)).toEqual(['note:npx'])
      } finally {
        await client.close()
      }
    },
    NPM_TIMEOUT_MS,
  )
})

describe('from the tarballs alone (no registry reachable)', () => {
  /** npm pointed at a port nothing listens on, with an empty cache: only the files given can install. */
  const offlineEnv = (home: string) => ({
    ...npmEnv(home, { url: 'http://127.0.0.1:9', token: 'none', logs: () => '', stop: async () => {} }),
    npm_config_fetch_retries: '0',
  })

  test(
    'the launcher and this platform’s package install and run',
    async () => {
      const project = join(scratch, 'tarballs')
      mkdirSync(project)
      const env = offlineEnv(join(scratch, 'home-tarballs'))
      const r = await run(['npm', 'install', '--no-save', tarball('mazemaker'), tarball('mazemaker-linux-x64')], env, project)
      expect(r.code).toBe(0)
      const version = await run([join(project, 'node_modules', '.bin', 'mazemaker'), '--version'], env, project)
      expect(version.stdout).toBe(`mazemaker ${stamp.version} (commit ${stamp.commit}, linux-x64)\n`)
    },
    NPM_TIMEOUT_MS,
  )

  test(
    'without the platform package the launcher says what is missing and why, instead of failing obscurely',
    async () => {
      const project = join(scratch, 'launcher-only')
      mkdirSync(project)
      const env = offlineEnv(join(scratch, 'home-launcher-only'))
      const r = await run(['npm', 'install', '--no-save', '--omit=optional', tarball('mazemaker')], env, project)
      expect(r.code).toBe(0)
      expect(existsSync(join(project, 'node_modules', '@mazemaker'))).toBe(false)
      const out = await run([join(project, 'node_modules', '.bin', 'mazemaker'), '--version'], env, project)
      expect(out.code).toBe(1)
      expect(out.stderr).toBe(
        `mazemaker: @mazemaker/linux-x64@${stamp.version} is not installed. npm installs it as an optional dependency: ` +
          'reinstall without --omit=optional / --no-optional, and not from a lockfile made on another platform\n',
      )
    },
    NPM_TIMEOUT_MS,
  )
})
