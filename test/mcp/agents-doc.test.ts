/**
 * docs/agents.md, executed: each stdio configuration is launched exactly as written (its
 * command found on PATH, as a client would, with HOME pointing at a fresh home) with the
 * official SDK's stdio client; each HTTP one is used against a real pod with only the port
 * and the token filled in. Every one round-trips remember and recall.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { mainCommand, testEnv } from '../helpers/pod-process'
import { docConfigs } from './_doc-configs'
import { adminToken, quietLog } from './_mcp-pod'
import { startPod, type Pod } from '../../src/pod'

const configs = docConfigs()
let root: string
let bin: string

/** A `mazemaker` on PATH that runs this checkout (the compiled binary unless MZM_TEST_RUNTIME says otherwise). */
function installShim(dir: string): void {
  mkdirSync(dir, { recursive: true })
  const shim = join(dir, 'mazemaker')
  writeFileSync(
    shim,
    `#!/bin/sh\nexec ${mainCommand()
      .map((a) => `"${a}"`)
      .join(' ')} "$@"\n`,
  )
  chmodSync(shim, 0o755)
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'mzm-doc-'))
  bin = join(root, 'bin')
  installShim(bin)
})
afterAll(() => rmSync(root, { recursive: true, force: true }))

/** The operator has run the pod once (`mazemaker serve`): every other command refuses a home that does not exist. */
async function initPod(home: string): Promise<void> {
  await (await startPod({ home, port: 0, host: '127.0.0.1', autoSync: false, log: quietLog() })).close()
}

async function roundTrip(client: Client, label: string): Promise<void> {
  const content = `connected through ${label}`
  const saved = await client.callTool({ name: 'mazemaker_remember', arguments: { label: `note:${label}`, content } })
  expect(saved.isError).toBeFalsy()
  const id = (saved.structuredContent as { id: string }).id
  const found = await client.callTool({ name: 'mazemaker_recall', arguments: { query: label } })
  expect((found.structuredContent as { results: { id: string; content: string }[] }).results[0]).toMatchObject({ id, content })
}

test('the doc documents stdio for Claude Code, Claude Desktop, Cursor and VS Code, HTTP for Claude Code and VS Code', () => {
  const where = (list: { where: string }[]) => list.map((c) => c.where.split(' ')[0])
  expect(new Set(where(configs.stdio))).toEqual(new Set(['Claude', 'Cursor', 'VS']))
  expect(configs.stdio.map((c) => c.where)).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^Claude Code/),
      expect.stringMatching(/^Claude Desktop/),
      expect.stringMatching(/^Cursor/),
      expect.stringMatching(/^VS Code/),
    ]),
  )
  expect(configs.http.map((c) => c.where)).toEqual(expect.arrayContaining([expect.stringMatching(/^Claude Code/), expect.stringMatching(/^VS Code/)]))
  for (const h of configs.http) expect(Object.keys(h.headers)).toEqual(['Authorization'])
  expect(configs.hooks.map((h) => h.where)).toContain('Claude Code SessionStart')
})

describe('stdio configurations, launched as written', () => {
  for (const config of configs.stdio) {
    test(`${config.where}: ${[config.command, ...config.args].join(' ')}`, async () => {
      const home = join(root, config.where.replace(/\W+/g, '-'))
      mkdirSync(home)
      await initPod(join(home, '.mazemaker'))
      const transport = new StdioClientTransport({
        command: config.command,
        args: config.args,
        env: { ...testEnv(), HOME: home, PATH: `${bin}:${process.env.PATH}`, ...config.env },
        cwd: home,
        stderr: 'pipe',
      })
      const client = new Client({ name: 'doc-test', version: '1.0.0' })
      await client.connect(transport)
      try {
        await roundTrip(client, config.where.replace(/\W+/g, '').toLowerCase())
      } finally {
        await client.close()
      }
    }, 30_000)
  }
})

describe('HTTP configurations, against a running pod', () => {
  let pod: Pod
  let home: string
  beforeAll(async () => {
    home = join(root, 'http-home', '.mazemaker')
    mkdirSync(join(root, 'http-home'))
    pod = await startPod({ home, port: 0, host: '127.0.0.1', autoSync: false, log: quietLog() })
  }, 30_000)
  afterAll(async () => {
    await pod?.close()
  })

  for (const config of configs.http) {
    test(`${config.where}: ${config.url}`, async () => {
      // The doc's default listen address; a test pod takes a free port instead.
      expect(config.url).toBe('http://127.0.0.1:8765/mcp')
      const url = new URL(config.url)
      url.port = new URL(pod.url).port
      const token = adminToken(home)
      const headers = Object.fromEntries(
        Object.entries(config.headers).map(([k, v]) => [
          k,
          v.replace('$(cat ~/.mazemaker/admin.token)', token).replace('${MAZEMAKER_TOKEN}', token).replace('${input:mazemaker-token}', token),
        ]),
      )
      expect(headers.Authorization).toBe(`Bearer ${token}`)
      const client = new Client({ name: 'doc-test', version: '1.0.0' })
      await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers } }))
      try {
        await roundTrip(client, config.where.replace(/\W+/g, '').toLowerCase())
      } finally {
        await client.close()
      }
    }, 30_000)
  }
})

describe('the SessionStart hook, run as written', () => {
  for (const hook of configs.hooks) {
    test(`${hook.where}: ${hook.command}`, async () => {
      const home = join(root, 'hook-home')
      const project = join(root, 'lighthouse-keeper')
      mkdirSync(home)
      mkdirSync(project)
      await initPod(join(home, '.mazemaker'))
      const env = { ...testEnv(), HOME: home, PATH: `${bin}:${process.env.PATH}` }
      const run = (cmd: string[]) => Bun.spawn(cmd, { cwd: project, env, stdout: 'pipe', stderr: 'pipe' })
      expect(await run(['mazemaker', 'remember', 'decision:lighthouse-lamp', 'the lighthouse lamp uses LEDs now']).exited).toBe(0)
      // Claude Code runs hook commands with a shell, in the project directory.
      const proc = run(['sh', '-c', hook.command])
      const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited])
      expect(code).toBe(0)
      expect(stdout).toStartWith('# Mazemaker memory for lighthouse-keeper\n')
      expect(stdout).toContain('## Relevant to this project (lighthouse keeper)\n- [decision:lighthouse-lamp] the lighthouse lamp uses LEDs now')
    }, 30_000)
  }
})
