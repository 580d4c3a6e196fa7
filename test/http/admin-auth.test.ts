/**
 * Admin routes on a real in-process pod: the token is checked before any body is read, the body
 * cap applies after it, and the operator's scopes obey the same limits as a peer's.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import { formatHandshakeUrl, homePaths, openHome } from '../../src/identity'
import { loadPodConfig, savePodConfig } from '../../src/config'
import { adminBodyLimitBytes } from '../../src/http/app'
import { memoryLogger } from '../../src/lib/log'
import { startPod, type Pod } from '../../src/pod'
import { tempHome } from '../helpers/pod-process'
import { sendPartial } from '../helpers/raw-http'

let pod: Pod
let token: string
let handshake: string
const homes: string[] = []

beforeAll(async () => {
  const home = tempHome()
  const other = tempHome()
  homes.push(home, other)
  pod = await startPod({ home, port: 0, host: '127.0.0.1', log: memoryLogger(), autoSync: false })
  token = pod.home.identity.adminToken
  const b = (await openHome(other, { log: memoryLogger() })).identity
  handshake = formatHandshakeUrl({ podId: b.podId, key: b.publicKey })
})
afterAll(async () => {
  await pod.close()
  for (const h of homes) rmSync(h, { recursive: true, force: true })
})

const MiB = 1024 * 1024

async function api(method: string, path: string, body: unknown) {
  const res = await fetch(pod.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: res.status, body: (await res.json()) as { error?: string; message?: string } }
}

describe('the admin token comes before any body', () => {
  const routes: [string, string][] = [
    ['POST', '/memories'],
    ['PATCH', '/peer/peers/6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f'],
    ['POST', '/mcp'],
    ['POST', '/peer/add'],
  ]
  for (const [method, path] of routes) {
    for (const chunked of [false, true]) {
      test(`${method} ${path}: an unauthenticated 1 MiB ${chunked ? 'chunked' : 'declared'} body is refused (401) before it has arrived`, async () => {
        const req = await sendPartial({ url: pod.url, method, path, headers: { authorization: 'Bearer wrong' }, declaredBytes: MiB, firstBytes: 4096, chunked })
        try {
          expect(await req.status).toBe(401)
        } finally {
          req.close()
        }
      })
    }
  }

  test('with the token, a chunked body past the cap is 413 too_large', async () => {
    const big = new Blob([JSON.stringify({ label: 'public:x', content: 'x'.repeat(adminBodyLimitBytes(pod.home.config.max_content_bytes)) })]).stream()
    const res = await fetch(pod.url + '/memories', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: big,
    })
    expect(res.status).toBe(413)
    expect(await res.json()).toMatchObject({ error: 'too_large' })
  })

  test('with the token, a normal body is read', async () => {
    expect((await api('POST', '/memories', { label: 'public:ok', content: 'fine' })).status).toBe(201)
  })
})

describe('operator scopes obey the contract limits', () => {
  test('peer add with 17 globs: 400 naming the limit, nothing added', async () => {
    const res = await api('POST', '/peer/add', { handshake_url: handshake, scope: Array.from({ length: 17 }, (_, i) => `g${i}:*`) })
    expect(res.status).toBe(400)
    expect(res.body.message).toContain('has 17 globs (at most 16)')
    expect(pod.home.peers.list().peers).toHaveLength(0)
  })

  test('peer add and peer set with a 129-character glob: 400 naming the limit', async () => {
    const add = await api('POST', '/peer/add', { handshake_url: handshake, scope: 'x'.repeat(129) })
    expect(add.status).toBe(400)
    expect(add.body.message).toContain('is 129 characters long (at most 128)')
    const ok = await api('POST', '/peer/add', { handshake_url: handshake, scope: ['public:*', 'x'.repeat(128)] })
    expect(ok.status).toBe(201)
    const id = pod.home.peers.list().peers[0]!.id
    const set = await api('PATCH', `/peer/peers/${id}`, { scope: ['public:*', 'y'.repeat(129)] })
    expect(set.status).toBe(400)
    expect(set.body.message).toContain('is 129 characters long (at most 128)')
    expect(pod.home.peers.get(id)!.scope).toEqual(['public:*', 'x'.repeat(128)])
  })
})

describe('the admin body cap follows max_content_bytes', () => {
  test('a pod configured for 4 MiB memories accepts a 3 MiB memory over HTTP (it was refused at a fixed 1 MiB)', async () => {
    const home = tempHome()
    homes.push(home)
    await openHome(home, { log: memoryLogger() })
    const paths = homePaths(home)
    savePodConfig(paths.podToml, { ...loadPodConfig(paths.podToml), max_content_bytes: 4 * MiB })
    const big = await startPod({ home, port: 0, host: '127.0.0.1', log: memoryLogger(), autoSync: false })
    try {
      const post = (content: string) =>
        fetch(big.url + '/memories', {
          method: 'POST',
          headers: { authorization: `Bearer ${big.home.identity.adminToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ label: 'public:big', content }),
        })
      const ok = await post('y'.repeat(3 * MiB))
      expect(ok.status).toBe(201)
      const over = await post('y'.repeat(4 * MiB + 1))
      expect(over.status).toBe(413)
    } finally {
      await big.close()
    }
  })
})
