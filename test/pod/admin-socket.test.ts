/**
 * The home's admin socket (src/pod/admin-socket.ts) on real pods: mode 0600 even under umask 0, the
 * admin token still required on it, removed on close, a crashed pod's leftover replaced.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { lstatSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { startPod, type Pod } from '../../src/pod'
import { createLogger } from '../../src/lib/log'
import { serveAdminSocket } from '../../src/pod/admin-socket'
import { tempHome } from '../helpers/pod-process'

const log = createLogger({ level: 'error' })
const homes: string[] = []
const pods: Pod[] = []

afterEach(async () => {
  for (const p of pods.splice(0)) await p.close()
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true })
})

async function newPod(): Promise<Pod> {
  const home = tempHome()
  homes.push(home)
  const pod = await startPod({ home, port: 0, host: '127.0.0.1', autoSync: false, log })
  pods.push(pod)
  return pod
}

function overSocket(pod: Pod, path: string, token?: string): Promise<Response> {
  return fetch(`http://localhost${path}`, { unix: pod.socketPath!, headers: token ? { authorization: `Bearer ${token}` } : {} })
}

const tokenOf = (pod: Pod) => readFileSync(pod.home.paths.adminToken, 'utf8').trim()

describe('pod.sock', () => {
  test('is a 0600 socket in the home even under umask 0, and no temporary name is left', async () => {
    const old = process.umask(0)
    let pod: Pod
    try {
      pod = await newPod()
    } finally {
      process.umask(old)
    }
    expect(pod.socketPath).toBe(join(pod.home.paths.root, 'pod.sock'))
    const st = lstatSync(pod.socketPath!)
    expect(st.isSocket()).toBe(true)
    expect(st.mode & 0o777).toBe(0o600)
    expect(readdirSync(pod.home.paths.root).filter((f) => f.includes('sock'))).toEqual(['pod.sock'])
  })

  test('serves the admin app and still requires the admin token', async () => {
    const pod = await newPod()
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
    const pod = await newPod()
    const path = pod.socketPath!
    await pod.close()
    expect(existsSync(path)).toBe(false)
  })

  test("a crashed pod's leftover socket is replaced by the next pod holding the lock", async () => {
    const home = tempHome()
    homes.push(home)
    const path = join(home, 'pod.sock')
    // A leftover socket nobody serves any more (what kill -9 leaves behind).
    const stale = serveAdminSocket({ path, fetch: () => new Response('stale'), maxRequestBodySize: 1024, onError: () => new Response('x'), log })!
    const staleIno = lstatSync(path).ino
    const pod = await startPod({ home, port: 0, host: '127.0.0.1', autoSync: false, log })
    pods.push(pod)
    expect(lstatSync(path).ino).not.toBe(staleIno)
    expect(((await (await overSocket(pod, '/healthz')).json()) as { pod_id: string }).pod_id).toBe(pod.id)
    // The old holder closing later must not remove the new pod's socket.
    await stale.close()
    expect(lstatSync(path).isSocket()).toBe(true)
  })
})
