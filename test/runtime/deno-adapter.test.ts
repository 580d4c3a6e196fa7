/** The Deno adapter, run by Deno itself (test/runtime/fixtures/deno-probe.ts), checked here. */
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DENO, ROOT } from '../helpers/pod-process'

const dir = mkdtempSync(join(tmpdir(), 'mzm-deno-probe-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

test('under Deno: serve (TCP, Unix socket, limits, stop), unixFetch, node:sqlite with FTS5, sealed pages opened and big ones sealed off the main thread, uuidv7, width, spawn, stdin', async () => {
  const probe = join(ROOT, 'test', 'runtime', 'fixtures', 'deno-probe.ts')
  // What a pod killed with SIGKILL leaves: a socket file nobody listens on.
  const server = Bun.spawn(
    [process.execPath, '-e', `Bun.serve({ unix: ${JSON.stringify(join(dir, 'leftover.sock'))}, fetch: () => new Response('') }); console.log('up')`],
    { stdout: 'pipe' },
  )
  await server.stdout.getReader().read()
  server.kill('SIGKILL')
  await server.exited
  const proc = Bun.spawn([DENO, 'run', '-A', probe, dir], { cwd: dir, stdin: new TextEncoder().encode('piped in\n'), stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
  const out = JSON.parse(stdout)
  expect(out).toMatchObject({
    name: 'deno',
    tcp: {
      hostname: '127.0.0.1',
      portOk: true,
      unix: null,
      body: { ip: '127.0.0.1' },
      boom: { status: 500, body: { error: 'kaput' } },
      bigStatus: 413,
      reached: 1, // /boom only: the oversized body never reached fetch
    },
    inUse: 'EADDRINUSE',
    inflight: 'done',
    unix: { hostname: '', port: 0, path: true, status: 'HTTP/1.1 200 OK', body: { ip: null, got: 'GET /' } },
    unixFetch: { body: { ip: null, got: 'PUT /status?x=1' }, missing: 'ENOENT', leftover: 'ECONNREFUSED' },
    errno: { tcpRefused: 'ECONNREFUSED' },
    sqlite: {
      rows: ['outer'],
      fts: [5],
      none: null,
      journal: { journal_mode: 'wal' },
      inserted: { changes: 1, lastInsertRowid: 2 },
      updated: 2,
      readonly: 'refused',
    },
    seal: { offThread: true, opened: '{"memories":[]}', tampered: 'SealError' },
    bigSeal: { offThread: true, opened: true, length: 28, tampered: 'SealError', small: '{"memories":[]}', smallAtOnce: true, bigPromised: true },
    uuid: { sorted: true, unique: 100 },
    width: [3, 6, 2, 1, 3],
    spawnExit: 3,
    stdin: 'piped in\n',
  })
  expect(out.uuid.first).toMatch(/^018bcfe5-6800-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  // Running the program again from anywhere: deno run -A <absolute entry script>.
  expect(out.self).toEqual([realpathSync(DENO), 'run', '-A', probe])
}, 60_000)
