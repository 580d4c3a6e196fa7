/**
 * letIoRun(): a request started before synchronous work reaches the server during that work, on
 * both runtimes. Deno's fetch writes nothing until its event loop turns, so without it a pull
 * under Deno asked for page n+1 only after storing page n, and the peer served it meanwhile for
 * nobody (test/runtime/fixtures/io-turn-probe.ts).
 */
import { afterAll, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DENO, ROOT } from '../helpers/pod-process'

const dir = mkdtempSync(join(tmpdir(), 'mzm-io-turn-'))
const probe = join(ROOT, 'test', 'runtime', 'fixtures', 'io-turn-probe.ts')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

for (const [name, argv] of [
  ['bun', [process.execPath, probe]],
  ['deno', [DENO, 'run', '-A', probe]],
] as const) {
  test(`under ${name}: the request is on the wire before the synchronous work that follows letIoRun() ends`, async () => {
    const marker = join(dir, `${name}.heard`)
    const server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch(req) {
        if (new URL(req.url).pathname === '/next') writeFileSync(marker, 'heard')
        return new Response('ok')
      },
    })
    try {
      const proc = Bun.spawn([...argv, `http://127.0.0.1:${server.port}`, marker], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' })
      const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
      expect(JSON.parse(stdout)).toEqual({ name, heard: true, status: 200 })
      expect(existsSync(marker)).toBe(true)
    } finally {
      server.stop(true)
    }
  }, 30_000)
}
