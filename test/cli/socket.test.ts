/**
 * CLI ↔ pod over the home's Unix socket: a pod on any port is found by every command, and the
 * admin token never goes to whatever listens on the TCP port of a stopped pod.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cleanup, runCli, spawnPod, tempHome, type PodProcess } from '../helpers/pod-process'
import { remember } from '../helpers/federation'

describe('a pod on a non-default port (serve --port 0, pod.toml says 8765)', () => {
  let pod: PodProcess
  let other: string
  beforeAll(async () => {
    pod = await spawnPod()
    other = tempHome()
  })
  afterAll(() => cleanup([pod], [other]))

  const cli = (...args: string[]) => runCli([...args, '--home', pod.home])

  test('identity, open, doctor find it', async () => {
    const id = await cli('identity', '--json')
    expect(id.stderr).toBe('')
    expect(JSON.parse(id.stdout).pod_id).toBe((await pod.api('GET', '/status')).body.pod_id)
    const open = await cli('open')
    expect(open.code).toBe(0)
    // The URL of the pod as it runs, not pod.toml's port.
    expect(open.stdout.trim()).toBe(`${pod.url}/#token=${pod.token()}`)
    expect(open.stderr).not.toContain('not running')
    const doctor = await cli('doctor')
    expect(doctor.stdout).toContain(`running at ${pod.url}`)
  })

  test('remember, recall go through the running pod', async () => {
    const r = await cli('remember', 'public:sock', 'over the socket walrus')
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect((await pod.api('GET', '/recall?q=walrus')).body.results[0].label).toBe('public:sock')
    const q = await cli('recall', 'walrus', '--json')
    expect(JSON.parse(q.stdout).results[0].content).toBe('over the socket walrus')
  })

  test('peer add, list, set, pause, remove and sync go through the running pod', async () => {
    const hs = JSON.parse((await runCli(['identity', '--json', '--home', other])).stdout)
    const add = await cli('peer', 'add', hs.handshake_url, '--url', 'http://127.0.0.1:9', '--name', 'other')
    expect(add.stderr).toBe('')
    expect(add.code).toBe(0)
    expect((await pod.api('GET', '/peer/peers')).body.peers.map((p: { id: string }) => p.id)).toEqual([hs.pod_id])
    expect((await cli('peer', 'list')).stdout).toContain('other')
    expect((await cli('peer', 'set', 'other', '--scope', 'ops:*')).code).toBe(0)
    expect((await cli('peer', 'pause', 'other')).code).toBe(0)
    const sync = await cli('sync', '--json')
    expect(sync.code).toBe(0)
    expect(JSON.parse(sync.stdout).results[0].error).toBe('paused')
    expect((await cli('peer', 'remove', 'other')).code).toBe(0)
    expect((await pod.api('GET', '/peer/peers')).body.peers).toEqual([])
  })
})

describe('a stopped pod whose TCP port someone else holds', () => {
  let home: string
  let fake: ReturnType<typeof Bun.serve>
  const seen: { path: string; authorization: string | null }[] = []
  let podId: string

  beforeAll(async () => {
    home = tempHome()
    const id = await runCli(['identity', '--json', '--home', home])
    podId = JSON.parse(id.stdout).pod_id
    // Another local user's listener on the pod's port: it impersonates the pod's /healthz
    // (the pod id is public) and records every Authorization header it is sent.
    fake = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch(req) {
        const url = new URL(req.url)
        seen.push({ path: url.pathname, authorization: req.headers.get('authorization') })
        if (url.pathname === '/healthz') return Response.json({ ok: true, pod_id: podId, version: '0' })
        return Response.json({
          results: [],
          peers: [],
          summary: '',
          pod_id: podId,
          name: 'x',
          key: 'k',
          handshake_url: 'mzm-handshake://x',
          id: 'x',
          label: 'x',
          encrypted: false,
          url: 'http://evil',
        })
      },
    })
    const toml = join(home, 'pod.toml')
    writeFileSync(toml, readFileSync(toml, 'utf8').replace(/^listen = .*$/m, `listen = "127.0.0.1:${fake.port}"`), { mode: 0o600 })
  })
  afterAll(async () => {
    await fake.stop(true)
    rmSync(home, { recursive: true, force: true })
  })

  test('every command runs in-process and the admin token never reaches the listener', async () => {
    const commands = [['remember', 'note:secret', 'stays home'], ['recall', 'stays', '--json'], ['identity'], ['peer', 'list'], ['sync']]
    for (const args of commands) {
      const r = await runCli([...args, '--home', home])
      expect({ args, tokens: seen.filter((s) => s.authorization !== null) }).toEqual({ args, tokens: [] })
      // identity warns (stderr) that its handshake carries no address; nothing else is said.
      const said = r.stderr.replace(/^note: the pod is not running.*\n/, '').replace(/^warning: the handshake URL carries no address.*\n/, '')
      expect({ args, code: r.code, stderr: said }).toEqual({ args, code: 0, stderr: '' })
      if (args[0] === 'recall') expect(JSON.parse(r.stdout).results[0].content).toBe('stays home')
      if (args[0] === 'identity') expect(r.stdout).toContain(podId)
    }
    // `open` has no running pod to link to: it prints no link at all (the listener would get the token).
    const open = await runCli(['open', '--home', home])
    expect({ code: open.code, stdout: open.stdout }).toEqual({ code: 1, stdout: '' })
    expect(open.stderr).toContain('not running')
    const doctor = await runCli(['doctor', '--home', home])
    expect(doctor.stdout).toContain(`127.0.0.1:${fake.port} is taken by another program`)
    expect(seen.filter((s) => s.authorization !== null)).toEqual([])
    // In-process pods closed again: no socket left behind.
    expect(existsSync(join(home, 'pod.sock'))).toBe(false)
  })
})

test('after kill -9 the leftover socket is not mistaken for a pod: commands run in-process', async () => {
  const pod = await spawnPod()
  try {
    await pod.kill9()
    expect(existsSync(join(pod.home, 'pod.sock'))).toBe(true)
    const r = await runCli(['remember', 'note:after', 'the crash', '--home', pod.home])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(existsSync(join(pod.home, 'pod.sock'))).toBe(false)
  } finally {
    await cleanup([pod])
  }
})

test("a command's own in-process pod never registers its ephemeral port at the rendezvous", async () => {
  const seen: string[] = []
  const rv = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch(req) {
      seen.push(`${req.method} ${new URL(req.url).pathname}`)
      return Response.json({ error: 'unavailable', message: 'test rendezvous' }, { status: 503 })
    },
  })
  const home = tempHome()
  try {
    expect((await runCli(['rendezvous', 'join', `http://127.0.0.1:${rv.port}`, '--token', 'tok', '--home', home])).code).toBe(0)
    for (const args of [['remember', 'note:x', 'y'], ['recall', 'y'], ['peer', 'list'], ['identity']]) {
      const r = await runCli([...args, '--home', home])
      const said = r.stderr.replace(/^warning: the handshake URL carries no address.*\n/, '')
      expect({ args, code: r.code, stderr: said }).toEqual({ args, code: 0, stderr: '' })
    }
    expect(seen).toEqual([])
  } finally {
    await rv.stop(true)
    rmSync(home, { recursive: true, force: true })
  }
})

test('a running pod that does not answer on its socket is named, with what to do', async () => {
  const pod = await spawnPod()
  try {
    // What an older pod (no socket) looks like to this CLI.
    unlinkSync(join(pod.home, 'pod.sock'))
    const r = await runCli(['recall', 'x', '--home', pod.home])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`a pod (pid ${pod.pid}) runs for this home but does not answer on ${join(pod.home, 'pod.sock')}; restart it`)
  } finally {
    await cleanup([pod])
  }
}, 60_000)

test('a pod that holds the home but is not answering yet (starting, thousands of peers) is waited for, not called broken', async () => {
  const pod = await spawnPod()
  const sock = join(pod.home, 'pod.sock')
  const aside = join(pod.home, 'pod.sock.aside')
  try {
    await remember(pod, 'public:waited', 'the command waited for the pod')
    // Its socket does not answer yet, as while a pod starts: the command finds the home locked.
    // A stand-in answers 503 on the socket path; its second /healthz is the command waiting (before,
    // it gave up after the first and said "restart it"), and then the pod's own socket is back.
    renameSync(sock, aside)
    let asked = 0
    const standIn = Bun.serve({
      unix: sock,
      fetch() {
        if (++asked === 2) queueMicrotask(() => void standIn.stop(true).then(() => renameSync(aside, sock)))
        return new Response('starting', { status: 503 })
      },
    })
    const pending = runCli(['recall', 'waited', '--home', pod.home])
    const r = await pending
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' })
    expect(r.stdout).toContain('the command waited for the pod')
  } finally {
    await cleanup([pod])
  }
}, 60_000)
