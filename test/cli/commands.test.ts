/**
 * The CLI as an operator runs it: remember/recall with and without a running pod, identity,
 * open, peer list, sync, doctor, and clear refusals for a damaged home.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { chmodSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cleanup, runCli, spawnPod, tempHome, type PodProcess } from '../helpers/pod-process'

describe('without a running pod', () => {
  let home: string
  beforeAll(() => {
    home = tempHome()
  })
  afterAll(() => rmSync(home, { recursive: true, force: true }))

  test('remember then recall work on the home directly, private content marked', async () => {
    const r = await runCli(['remember', 'note:cli', 'the cli remembers walruses', '--home', home])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('private, encrypted')
    const q = await runCli(['recall', 'walruses', '--home', home, '--json'])
    expect(q.code).toBe(0)
    expect(JSON.parse(q.stdout).results[0].content).toBe('the cli remembers walruses')
  })

  test('identity prints the handshake URL; --json and --qr', async () => {
    const r = await runCli(['identity', '--home', home])
    expect(r.stdout).toMatch(/mzm-handshake:\/\/[0-9a-f-]{36}\?key=[A-Za-z0-9_-]{43}/)
    const j = JSON.parse((await runCli(['identity', '--json', '--home', home])).stdout)
    expect(j.handshake_url).toStartWith(`mzm-handshake://${j.pod_id}?key=${j.key}`)
    const qr = await runCli(['identity', '--qr', '--home', home])
    expect(qr.stdout.split('\n').length).toBeGreaterThan(15)
  })

  test('open with the pod stopped: no link (the token goes nowhere), says to start the pod, exits 1', async () => {
    const r = await runCli(['open', '--home', home, '--port', '18999'])
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain('not running')
    expect(r.stderr).not.toContain('token=')
  })

  test('peer list and sync with no peers; doctor is happy', async () => {
    const list = await runCli(['peer', 'list', '--home', home])
    expect(list.stdout).toContain('0 ready · 0 handshake-pending')
    const sync = await runCli(['sync', '--home', home])
    expect(sync.stdout).toContain('no peers')
    const doctor = await runCli(['doctor', '--home', home, '--port', '0'])
    expect(doctor.stdout).toContain('integrity ok')
    expect(doctor.code).toBe(0)
  })

  test('usage mistakes and unknown peers say what to do', async () => {
    const bad = await runCli(['peer', 'add', 'https://nope', '--home', home])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('mzm-handshake://')
    const unknown = await runCli(['peer', 'pause', 'abcdef12', '--home', home])
    expect(unknown.stderr).toContain('mazemaker peer list')
    const port = await runCli(['--port', 'x', 'identity', '--home', home])
    expect(port.code).toBe(2)
    expect(port.stderr).toContain('--port')
  })
})

describe('with a running pod', () => {
  let pod: PodProcess
  beforeAll(async () => {
    pod = await spawnPod()
  })
  afterAll(() => cleanup([pod]))

  test('remember goes through the running pod and shows up in its recall', async () => {
    const port = new URL(pod.url).port
    const r = await runCli(['remember', 'public:cli', 'through the running pod', '--home', pod.home, '--port', port])
    expect(r.code).toBe(0)
    const res = await pod.api('GET', '/recall?q=running')
    expect(res.body.results[0].label).toBe('public:cli')
    const doctor = await runCli(['doctor', '--home', pod.home, '--port', port])
    expect(doctor.stdout).toContain(`running at ${pod.url}`)
  })
})

test('a port already in use is one clear line, not a stack trace', async () => {
  const home = tempHome()
  const taken = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('someone else') })
  try {
    const r = await runCli(['serve', '--home', home, '--port', String(taken.port)])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`127.0.0.1:${taken.port} is already in use`)
    expect(r.stderr).not.toContain('    at ')
  } finally {
    await taken.stop(true)
    rmSync(home, { recursive: true, force: true })
  }
})

describe('a damaged home is refused, never repaired silently', () => {
  test.each([
    ['vault.key', (p: string) => chmodSync(p, 0o644), 'chmod 600'],
    ['vault.key', (p: string) => writeFileSync(p, 'garbage\n', { mode: 0o600 }), 'vault.key'],
    ['peer-keys/self.key', (p: string) => writeFileSync(p, 'short\n', { mode: 0o600 }), 'self.key'],
  ])('%s damaged → serve exits 1 naming the file', async (file, damage, hint) => {
    const home = tempHome()
    try {
      expect((await runCli(['identity', '--home', home])).code).toBe(0)
      damage(join(home, file))
      const r = await runCli(['serve', '--home', home, '--port', '0'])
      expect(r.code).toBe(1)
      expect(r.stderr).toContain(hint)
      expect(r.stderr).not.toContain('    at ') // one clean line, no stack
      const doctor = await runCli(['doctor', '--home', home])
      expect(doctor.code).toBe(1)
      expect(doctor.stdout).toContain('FAIL')
    } finally {
      rmSync(home, { recursive: true, force: true })
    }
  })
})
