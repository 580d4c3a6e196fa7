/** A first start that fails (its port is taken) leaves no home behind, and never touches one that was there. */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runCli, tempHome } from '../helpers/pod-process'

let dir: string
let taken: ReturnType<typeof Bun.serve>
beforeAll(() => {
  dir = tempHome('mzm-first-boot-')
  taken = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('someone else') })
})
afterAll(async () => {
  await taken.stop(true)
  rmSync(dir, { recursive: true, force: true })
})

test('serve on a taken port: says so, and the home it would have created does not exist', async () => {
  const home = join(dir, 'new-home')
  const r = await runCli(['serve', '--home', home, '--port', String(taken.port)])
  expect(r.code).not.toBe(0)
  expect(r.stderr).toContain(`127.0.0.1:${taken.port} is already in use`)
  expect(existsSync(home)).toBe(false)
  // The next try, on a free port, is a first boot as if nothing had happened.
  const ok = await runCli(['identity', '--home', home])
  expect(ok.stderr).toContain('no pod at')
}, 30_000)

test('an existing empty folder (or one with the operator’s own file) is left as it was', async () => {
  const home = join(dir, 'existing')
  mkdirSync(home, { mode: 0o700 })
  writeFileSync(join(home, 'NOTES.txt'), 'mine')
  const r = await runCli(['serve', '--home', home, '--port', String(taken.port)])
  expect(r.code).not.toBe(0)
  expect(readdirSync(home)).toEqual(['NOTES.txt'])
}, 30_000)

test('a home that exists is never removed when its start fails', async () => {
  const home = join(dir, 'made')
  mkdirSync(home, { mode: 0o700 })
  expect((await runCli(['remember', 'public:keep', 'me', '--home', home])).code).toBe(0)
  const files = readdirSync(home).sort()
  const r = await runCli(['serve', '--home', home, '--port', String(taken.port)])
  expect(r.code).not.toBe(0)
  expect(readdirSync(home).sort()).toEqual(files)
}, 30_000)
