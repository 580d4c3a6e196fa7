/**
 * selfCommand(), through what uses it: `service install` writes a unit whose ExecStart must start
 * this same pod again — from source under Bun, from source under Deno, and as the compiled
 * binary. Each unit's command is run from / (as systemd would) until the pod listens.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { mainCommand, ROOT, spawnListening, testEnv, tempHome } from '../helpers/pod-process'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

/** ExecStart's words, undoing quoteSystemdArg. */
function execStart(unit: string): string[] {
  const line = /^ExecStart=(.*)$/m.exec(unit)![1]!
  const words = [...line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!))
  return words.map((w) => w.replace(/%%/g, '%').replace(/\$\$/g, '$'))
}

describe.each([
  ['bun, from source', () => mainCommand('bun')],
  ['deno, from source', () => mainCommand('deno')],
  ['the compiled binary', () => mainCommand('binary')],
])('%s', (_name, command) => {
  test('service install writes a unit whose ExecStart runs this pod again', async () => {
    const config = mkdtempSync(join(tmpdir(), 'mzm-unit-'))
    const home = tempHome()
    dirs.push(config, home)
    const env = testEnv({ XDG_CONFIG_HOME: config })
    const install = Bun.spawnSync([...command(), 'service', 'install', '--home', home, '--port', '0'], { cwd: ROOT, env, stdout: 'pipe', stderr: 'pipe' })
    expect({ code: install.exitCode, stderr: install.stderr.toString() }).toEqual({ code: 0, stderr: '' })
    const argv = execStart(readFileSync(join(config, 'systemd', 'user', 'mazemaker.service'), 'utf8'))
    expect(argv.slice(-5)).toEqual(['serve', '--home', home, '--port', '0'])
    const { proc, url } = await spawnListening(argv, { XDG_CONFIG_HOME: config }, { cwd: '/' })
    try {
      expect((await fetch(`${url}/healthz`)).status).toBe(200)
    } finally {
      proc.kill('SIGTERM')
      expect(await proc.exited).toBe(0)
    }
  }, 60_000)
})
