/**
 * The home's admin socket (src/pod/admin-socket.ts) on real pods: mode 0600 even under umask 0, the
 * admin token still required on it, removed on close, a crashed pod's leftover replaced.
 */
import { describe, expect, test } from 'bun:test'
import { lstatSync, mkdirSync, readdirSync, readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Pod } from '../../src/pod'
import { createLogger } from '../../src/lib/log'
import { serveAdminSocket, socketPathFits, socketPathLimit } from '../../src/pod/admin-socket'
import { disposablePod } from '../helpers/in-process-pod'
import { tempDir } from '../helpers/pod-process'

const log = createLogger({ level: 'error' })
const newPod = (home?: string) => disposablePod({ home, autoSync: false, log })

function overSocket(pod: Pod, path: string, token?: string): Promise<Response> {
  return fetch(`http://localhost${path}`, { unix: pod.socketPath!, headers: token ? { authorization: `Bearer ${token}` } : {} })
}

const tokenOf = (pod: Pod) => readFileSync(pod.home.paths.adminToken, 'utf8').trim()

describe('pod.sock', () => {
  test('is a 0600 socket in the home even under umask 0, and no temporary name is left', async () => {
    const old = process.umask(0)
    let started: Pod & AsyncDisposable
    try {
      started = await newPod()
    } finally {
      process.umask(old)
    }
    await using pod = started
    expect(pod.socketPath).toBe(join(pod.home.paths.root, 'pod.sock'))
    const st = lstatSync(pod.socketPath!)
    expect(st.isSocket()).toBe(true)
    expect(st.mode & 0o777).toBe(0o600)
    expect(readdirSync(pod.home.paths.root).filter((f) => f.includes('sock'))).toEqual(['pod.sock'])
  })

  test('serves the admin app and still requires the admin token', async () => {
    await using pod = await newPod()
    const health = await overSocket(pod, '/healthz')
    expect(((await health.json()) as { pod_id: string }).pod_id).toBe(pod.id)
    for (const path of ['/status', '/memories', '/peer/peers']) {
      const res = await overSocket(pod, path)
      expect(res.status).toBe(401)
      expect(((await res.json()) as { error: string }).error).toBe('unauthorized')
      expect((await overSocket(pod, path, 'not-the-token')).status).toBe(401)
    }
    const status = await overSocket(pod, '/status', tokenOf(pod))
    expect(status.status).toBe(200)
    // The TCP URL travels to the CLI over the socket (`mazemaker open`).
    expect(((await status.json()) as { url: string }).url).toBe(pod.url)
  })

  test('is removed on close', async () => {
    await using pod = await newPod()
    const path = pod.socketPath!
    await pod.close()
    expect(existsSync(path)).toBe(false)
  })

  test("a crashed pod's leftover socket is replaced by the next pod holding the lock", async () => {
    using dir = tempDir()
    const home = dir.path
    const path = join(home, 'pod.sock')
    // A leftover socket nobody serves any more (what kill -9 leaves behind).
    const stale = (await serveAdminSocket({ path, fetch: () => new Response('stale'), maxRequestBodySize: 1024, onError: () => new Response('x'), log }))!
    const staleIno = lstatSync(path).ino
    await using pod = await newPod(home)
    expect(lstatSync(path).ino).not.toBe(staleIno)
    expect(((await (await overSocket(pod, '/healthz')).json()) as { pod_id: string }).pod_id).toBe(pod.id)
    // The old holder closing later must not remove the new pod's socket.
    await stale.close()
    expect(lstatSync(path).isSocket()).toBe(true)
  })

  test('a home at the longest path a socket address holds still gets its socket (the temporary name is no longer)', async () => {
    using dir = tempDir()
    const base = dir.path
    // <home>/pod.sock is exactly one byte under the limit.
    const home = join(base, 'h'.repeat(socketPathLimit() - 1 - '/pod.sock'.length - base.length - 1))
    mkdirSync(home, { recursive: true, mode: 0o700 })
    expect(Buffer.byteLength(join(home, 'pod.sock'))).toBe(socketPathLimit() - 1)
    await using pod = await newPod(home)
    expect(pod.socketPath).toBe(join(home, 'pod.sock'))
    expect(((await (await overSocket(pod, '/healthz')).json()) as { pod_id: string }).pod_id).toBe(pod.id)
  })

  test('a home path too long for a socket: the pod runs on TCP and says to shorten it, leaving no socket file', async () => {
    using dir = tempDir()
    const base = dir.path
    const home = join(base, 'h'.repeat(socketPathLimit() - '/pod.sock'.length - base.length - 1))
    mkdirSync(home, { recursive: true, mode: 0o700 })
    const lines: string[] = []
    await using pod = await disposablePod({ home, autoSync: false, log: createLogger({ level: 'warn', sink: (l) => lines.push(l) }) })
    expect(pod.socketPath).toBeNull()
    expect((await fetch(`${pod.url}/healthz`)).status).toBe(200)
    expect(lines.join('\n')).toContain(`is ${socketPathLimit()} bytes, over the ${socketPathLimit() - 1} a Unix socket path may have`)
    expect(lines.join('\n')).toContain('choose a shorter home path')
    expect(readdirSync(home).filter((f) => f.startsWith('.s') || f.includes('sock'))).toEqual([])
  })
})

describe('socket path limits', () => {
  test('macOS and the BSDs hold 103 bytes, Linux and Windows 107 (the NUL takes the last)', () => {
    const path = (n: number) => `/${'a'.repeat(n - 1)}`
    expect(socketPathFits(path(103), 'darwin')).toBe(true)
    expect(socketPathFits(path(104), 'darwin')).toBe(false)
    expect(socketPathFits(path(104), 'freebsd')).toBe(false)
    expect(socketPathFits(path(107), 'linux')).toBe(true)
    expect(socketPathFits(path(108), 'linux')).toBe(false)
    expect(socketPathFits(path(108), 'win32')).toBe(false)
    // Bytes, not characters: a home under a non-ASCII user name is longer than it looks.
    expect(socketPathFits(`/${'é'.repeat(52)}`, 'darwin')).toBe(false)
  })
})
