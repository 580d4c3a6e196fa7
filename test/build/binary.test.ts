/**
 * The compiled binary depends on nothing but itself and its home: copied into an empty folder
 * and run with an empty environment, it boots, creates its home, answers /healthz, remembers
 * and recalls, holds a credential (the bundled secret scanner), and exits 0 on SIGTERM.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freshBinary } from '../helpers/binary'
import { spawnPod, type PodProcess } from '../helpers/pod-process'
import { FAKE_SECRETS, LOOKALIKES } from '../store/_fake-secrets'

let dir: string
let pod: PodProcess

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mzm-bin-'))
  copyFileSync(freshBinary(), join(dir, 'mazemaker'))
  Bun.spawnSync(['chmod', '755', join(dir, 'mazemaker')])
}, 120_000)

afterAll(async () => {
  await pod?.stop()
  rmSync(dir, { recursive: true, force: true })
})

test('first boot in an empty environment, /healthz, remember/recall, clean SIGTERM', async () => {
  const home = join(dir, 'home', '.mazemaker')
  pod = await spawnPod({
    home,
    command: ['env', '-i', `HOME=${join(dir, 'home')}`, 'PATH=/usr/bin:/bin', join(dir, 'mazemaker')],
  })
  for (const f of ['pod.toml', 'peer-keys/self.key', 'vault.key', 'admin.token', 'pod.db']) {
    expect(statSync(join(home, f)).mode & 0o777).toBe(0o600)
  }
  expect(statSync(home).mode & 0o777).toBe(0o700)

  const health = (await (await fetch(pod.url + '/healthz')).json()) as { ok: boolean; version: string }
  expect(health.ok).toBe(true)
  expect(health.version).toMatch(/^\d+\.\d+\.\d+/)

  expect((await pod.api('POST', '/memories', { label: 'note:bin', content: 'compiled binaries remember quokkas' })).status).toBe(201)
  const recall = await pod.api('GET', '/recall?q=quokkas')
  expect(recall.body.results[0].content).toBe('compiled binaries remember quokkas')

  // The credential scanner (secretlint's preset) is bundled, not loaded by name at run time.
  const token = await pod.api('POST', '/memories', { label: 'public:ci', content: FAKE_SECRETS['GitHub token'] })
  expect(token.body).toMatchObject({ held: true, warning: expect.stringContaining('GITHUB_TOKEN') })
  const key = await pod.api('POST', '/memories', { label: 'public:k', content: FAKE_SECRETS['PEM private key block'] })
  expect(key.body.held).toBe(true)
  expect((await pod.api('POST', '/memories', { label: 'public:sum', content: LOOKALIKES['sha256 hex digest'] })).body.held).toBe(false)

  expect(await pod.stop()).toBe(0)
  expect(pod.logs()).toContain('op=shutdown')
}, 60_000)
