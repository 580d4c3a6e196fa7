/**
 * While the pod is down, another local user listens on the pod's TCP port and
 * answers /healthz with the pod's (public) id. The CLI must never send the admin token over
 * TCP to whatever holds the port: it talks to the running pod over `<home>/pod.sock` (0600).
 * Also the newcomer's bug: a pod started on another port than pod.toml's is found by the CLI.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { Server } from 'bun'
import { runCli, type PodProcess } from '../helpers/pod-process'
import { setPodToml, spawn, stopPods } from './_fixture'

let pod: PodProcess | undefined
let home: string
let podId: string
let token: string
let squatter: Server<undefined>
const seen: { path: string; headers: string; body: string }[] = []

beforeAll(async () => {
  // A home as first boot leaves it; then the pod goes down.
  const first = await spawn()
  home = first.home
  podId = (await first.api('GET', '/peer/identity')).body.pod_id
  await first.api('POST', '/memories', { label: 'public:socket', content: 'found through the socket' })
  await first.stop()
  token = readFileSync(join(home, 'admin.token'), 'utf8').trim()

  // The other user's listener, on the port pod.toml names, impersonating the pod.
  squatter = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req) {
      seen.push({ path: new URL(req.url).pathname, headers: JSON.stringify([...req.headers]), body: await req.text() })
      if (new URL(req.url).pathname === '/healthz') return Response.json({ ok: true, pod_id: podId, version: '0.1.0' })
      return Response.json({ memories: [], results: [], peers: [], summary: '' })
    },
  })
  setPodToml(home, 'listen', `"127.0.0.1:${squatter.port}"`)
})
afterAll(async () => {
  await squatter.stop(true)
  await stopPods([pod])
})

describe('the pod is down and someone else holds its port', () => {
  for (const args of [['recall', 'socket'], ['remember', 'public:x', 'y'], ['peer', 'list'], ['identity'], ['sync']]) {
    test(`\`mazemaker ${args.join(' ')}\` never sends the admin token to the squatter`, async () => {
      const start = seen.length
      const out = await runCli([...args, '--home', home])
      const mine = seen.slice(start)
      expect(mine.filter((r) => r.headers.includes(token) || r.body.includes(token)).map((r) => r.path)).toEqual([])
      expect(mine.filter((r) => /authorization/i.test(r.headers)).map((r) => r.path)).toEqual([])
      expect(out.stdout + out.stderr).not.toContain(token)
    })
  }
})

describe('the pod is up on a port pod.toml does not name', () => {
  test('it serves the CLI on <home>/pod.sock (0600); identity, recall and peer list find it', async () => {
    pod = await spawn({ home })
    const sock = statSync(join(home, 'pod.sock'))
    expect(sock.isSocket()).toBe(true)
    expect(sock.mode & 0o777).toBe(0o600)

    const identity = await runCli(['identity', '--home', home])
    // Only the warning that its handshake carries no address (it advertises nothing).
    expect(identity.stderr).toMatch(/^(warning: the handshake URL carries no address[^\n]*\n)?$/)
    expect(identity.code).toBe(0)
    expect(identity.stdout).toContain(podId)

    const recall = await runCli(['recall', 'socket', '--home', home])
    expect(recall.code).toBe(0)
    expect(recall.stdout).toContain('found through the socket')

    expect((await runCli(['peer', 'list', '--home', home])).code).toBe(0)
    // Still nothing to the squatter.
    expect(seen.filter((r) => r.headers.includes(token))).toEqual([])
  })

  test('the socket still wants the admin token', async () => {
    const res = await fetch('http://localhost/peer/peers', { unix: join(home, 'pod.sock') } as RequestInit)
    expect(res.status).toBe(401)
    const ok = await fetch('http://localhost/peer/peers', { unix: join(home, 'pod.sock'), headers: { authorization: `Bearer ${token}` } } as RequestInit)
    expect(ok.status).toBe(200)
  })
})
