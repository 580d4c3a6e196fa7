/**
 * A newcomer's path through the CLI, run as a subprocess: a home that does not exist is refused
 * (nothing created), bad paths are one-line errors, sync's exit code counts only real failures,
 * colour only on a terminal and never with NO_COLOR, usage lines name the program, content over
 * the limit reads the same from stdin as from an argument, recall scores mean something in a
 * store of one memory. These run the compiled binary (what a newcomer downloads); the first block
 * runs `bun src/main.ts` too, as `npm start` from a checkout does.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { mainCommand, ROOT, runCli, spawnPod, tempDir, testEnv } from '../helpers/pod-process'
import { identityOf } from '../helpers/federation'

const scratch = mkdtempSync(join(tmpdir(), 'mzm-newcomer-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

/** One line on stderr, no stack trace. */
function oneLineError(r: { code: number; stderr: string }) {
  expect(r.code).not.toBe(0)
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1)
  expect(r.stderr).toStartWith('error: ')
  expect(r.stderr).not.toMatch(/^\s+at /m)
}

/** stdin from a string (runCli gives none). */
async function runWithStdin(args: string[], input: string) {
  const proc = Bun.spawn([...mainCommand(), ...args], { cwd: ROOT, env: testEnv(), stdin: new Blob([input]), stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { code, stdout, stderr }
}

describe('from a checkout (`npm start` runs bun src/main.ts)', () => {
  test('usage names the program, --version answers, a missing home is refused and not created', async () => {
    const missing = join(scratch, 'no-such-home-source')
    expect((await runCli(['peer', 'add', '--help'], {}, 'bun')).stdout).toContain('USAGE mazemaker peer add [OPTIONS] <HANDSHAKE>')
    expect((await runCli(['--version'], {}, 'bun')).stdout).toMatch(/^mazemaker \d+\.\d+\.\d+ \(from source, bun /)
    const r = await runCli(['recall', 'hello', '--home', missing], {}, 'bun')
    oneLineError(r)
    expect(r.stderr).toBe(`error: no pod at ${missing}; run \`mazemaker serve --home ${missing}\` first\n`)
    expect(existsSync(missing)).toBe(false)
  })
})

describe('a home that does not exist', () => {
  const missing = join(scratch, 'no-such-home')
  test.each(
    [
      ['remember', 'public:x', 'hello'],
      ['recall', 'hello'],
      ['peer', 'list'],
      ['sync'],
      ['identity'],
      ['open'],
      ['doctor'],
      ['memory', 'held'],
      ['context'],
      ['export'],
    ].map((argv) => [argv.join(' '), argv] as const),
  )('%s … is refused and creates nothing', async (_name, argv) => {
    const r = await runCli([...argv, '--home', missing])
    oneLineError(r)
    expect(r.stderr).toBe(`error: no pod at ${missing}; run \`mazemaker serve --home ${missing}\` first\n`)
    expect(existsSync(missing)).toBe(false)
  })

  test('help and version still work', async () => {
    expect((await runCli(['--help', '--home', missing])).code).toBe(0)
    expect((await runCli(['peer', 'add', '--help', '--home', missing])).code).toBe(0)
    expect((await runCli(['--version', '--home', missing])).code).toBe(0)
    expect(existsSync(missing)).toBe(false)
  })
})

describe('bad paths are one line', () => {
  test('--home naming a file', async () => {
    const file = join(scratch, 'a-file')
    writeFileSync(file, 'x')
    const r = await runCli(['recall', 'x', '--home', file])
    oneLineError(r)
    expect(r.stderr).toContain(file)
  })

  test('import of a file that does not exist; export into a folder that does not exist', async () => {
    using homeDir = tempDir()
    const home = homeDir.path
    const imp = await runCli(['import', join(scratch, 'nope.jsonl'), '--home', home])
    oneLineError(imp)
    expect(imp.stderr).toContain('nope.jsonl')
    const exp = await runCli(['export', join(scratch, 'no-dir', 'out.jsonl'), '--public-only', '--home', home])
    oneLineError(exp)
    expect(exp.stderr).toContain('no-dir')
  })
})

describe('sync exit code', () => {
  test('pending and paused peers are not failures; an unreachable one is', async () => {
    await using a = await spawnPod()
    await using b = await spawnPod()
    const home = ['--home', a.home]
    // b: added without any URL (handshake-pending).
    const hsB = (await identityOf(b)).handshake_url
    expect((await a.api('POST', '/peer/add', { handshake_url: hsB })).status).toBe(201)
    const pending = await runCli(['sync', ...home])
    expect(pending.stdout).toContain('skip  handshake-pending: no URL for it yet: set a URL with `mazemaker peer set')
    expect(pending.code).toBe(0)

    const idB = (await identityOf(b)).pod_id
    expect((await a.api('PATCH', `/peer/peers/${idB}`, { sync: false, url: b.url })).status).toBe(200)
    expect((await runCli(['sync', ...home])).code).toBe(0)

    // Really unreachable: a URL on a port nobody listens on.
    await b.stop()
    expect((await a.api('PATCH', `/peer/peers/${idB}`, { sync: true })).status).toBe(200)
    const failed = await runCli(['sync', ...home])
    expect(failed.stdout).toContain('ERR')
    expect(failed.code).toBe(1)
  }, 60_000)
})

describe('colour and usage', () => {
  const tty = (cmd: string, env: Record<string, string> = {}) => {
    // script(1) gives the CLI a real terminal on stdout and stderr.
    const line = [...mainCommand(), ...cmd.split(' ')].map((a) => `'${a}'`).join(' ')
    // citty also turns colour off under CI=true (as CI runs us) or TEST: a terminal here is an operator's.
    const { CI: _ci, TEST: _test, ...operatorEnv } = testEnv(env)
    const r = Bun.spawnSync(['script', '-qec', line, '/dev/null'], { cwd: ROOT, env: operatorEnv, stdout: 'pipe', stderr: 'pipe' })
    return r.stdout.toString()
  }

  test('help is plain text through a pipe, coloured on a terminal, plain on a terminal with NO_COLOR', async () => {
    const piped = await runCli(['--help'])
    expect(piped.stdout).not.toContain('\x1b[')
    expect(tty('--help')).toContain('\x1b[')
    expect(tty('--help', { NO_COLOR: '1' })).not.toContain('\x1b[')
    expect(tty('--help', { NO_COLOR: 'yes' })).not.toContain('\x1b[')
  })

  test('usage lines name the program, nested commands included', async () => {
    expect((await runCli(['peer', 'add', '--help'])).stdout).toContain('USAGE mazemaker peer add [OPTIONS] <HANDSHAKE>')
    expect((await runCli(['memory', 'release', '--help'])).stdout).toContain('USAGE mazemaker memory release')
    expect((await runCli(['peer', '--help'])).stdout).toContain('USAGE mazemaker peer ')
    expect((await runCli(['remember', '--help'])).stdout).toContain('USAGE mazemaker remember')
  })

  test('an unknown command is named plainly', async () => {
    const r = await runCli(['bogus'])
    expect(r.code).toBe(2)
    expect(r.stderr).not.toContain('\\x1b')
    expect(r.stderr).toContain('bogus')
  })
})

describe('content and recall', () => {
  test('content over the limit: the same message from stdin as from an argument', async () => {
    using homeDir = tempDir()
    const home = homeDir.path
    expect((await runCli(['identity', '--home', home])).code).toBe(0)
    const big = 'x'.repeat(70_000)
    const fromArg = await runCli(['remember', 'public:big', big, '--home', home])
    oneLineError(fromArg)
    const fromStdin = await runWithStdin(['remember', 'public:big', '-', '--home', home], big)
    oneLineError(fromStdin)
    expect(fromStdin.stderr).toBe(fromArg.stderr)
    expect(fromArg.stderr).toContain('over the limit of 65536 bytes')
    // Far over (past the API's body cap): still the same message.
    const huge = await runWithStdin(['remember', 'public:big', '-', '--home', home], 'y'.repeat(2_000_000))
    expect(huge.stderr).toBe(fromArg.stderr.replace('70000', '2000000'))
  })

  test('recall scores are meaningful in a store of one memory, and rank', async () => {
    using homeDir = tempDir()
    const home = homeDir.path
    expect((await runCli(['remember', 'public:db', 'we chose sqlite for the pod', '--home', home])).code).toBe(0)
    const one = await runCli(['recall', 'sqlite', '--home', home])
    expect(one.stdout).not.toContain('0.00')
    expect(one.stdout).toMatch(/^\s+1\.00\s+public:db/m)
    expect((await runCli(['remember', 'public:other', 'sqlite is nice but so is postgres and more words here', '--home', home])).code).toBe(0)
    const two = JSON.parse((await runCli(['recall', 'chose sqlite', '--json', '--home', home])).stdout)
    expect(two.results.map((r: { label: string }) => r.label)).toEqual(['public:db', 'public:other'])
    expect(two.results[0].score).toBeGreaterThan(two.results[1].score)
    expect(two.results[1].score).toBeGreaterThan(0.1)
  })
})
