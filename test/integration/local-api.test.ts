/**
 * The local API of a real pod process, for what needs one: /healthz and the token over a real
 * socket, durability under kill -9, plaintext in no file of the home, and secrets in no log line.
 * The 4xx matrices and round trips run in process (test/http/local-api.test.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { cleanup, spawnPod, type PodProcess } from '../helpers/pod-process'

let pod: PodProcess

beforeAll(async () => {
  pod = await spawnPod()
})
afterAll(async () => {
  await cleanup([pod])
})

describe('admin token over a real socket', () => {
  test('/healthz needs none and holds no secrets', async () => {
    const res = await fetch(pod.url + '/healthz')
    expect(res.status).toBe(200)
    const body = (await res.json()) as Record<string, unknown>
    expect(body.ok).toBe(true)
    expect(Object.keys(body).sort()).toEqual(['ok', 'pod_id', 'protocol', 'version'])
  })

  test('an admin route without the token is 401 (the full matrix runs in process: test/http/local-api.test.ts)', async () => {
    const res = await fetch(pod.url + '/memories', { headers: { 'x-forwarded-for': '127.0.0.1' } })
    expect(res.status).toBe(401)
    expect(((await res.json()) as { error: string }).error).toBe('unauthorized')
    const ok = await pod.api('POST', '/memories', { label: 'public:smoke', content: 'over TCP' })
    expect(ok.status).toBe(201)
    expect((await pod.api('GET', `/memories/${ok.body.id}`)).body.content).toBe('over TCP')
  })
})

describe('durability', () => {
  test('every acknowledged write survives kill -9 and a restart', async () => {
    const victim = await spawnPod()
    const ids: string[] = []
    try {
      // Fire writes concurrently and kill the process while some are still in flight.
      const writes = Array.from({ length: 2000 }, (_, i) =>
        victim
          .api('POST', '/memories', { label: i % 2 ? `public:k${i}` : `note:k${i}`, content: `durable ${i}` })
          .then((r) => {
            if (r.status === 201) ids.push(r.body.id)
          })
          .catch(() => undefined),
      )
      // Kill once some writes are acknowledged and others are still in flight.
      for (let i = 0; i < 5000 && ids.length < 20; i++) await Bun.sleep(1)
      await victim.kill9()
      await Promise.all(writes)
      expect(ids.length).toBeGreaterThan(0)
      expect(ids.length).toBeLessThan(2000) // the kill really came mid-flight
      const again = await spawnPod({ home: victim.home })
      try {
        for (const id of ids) expect((await again.api('GET', `/memories/${id}`)).status).toBe(200)
      } finally {
        await again.stop()
      }
    } finally {
      await cleanup([victim])
    }
  })
})

describe('secrets stay put', () => {
  function filesUnder(dir: string): string[] {
    const { readdirSync, statSync } = require('node:fs') as typeof import('node:fs')
    return readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .map((f) => `${dir}/${f}`)
      .filter((f) => statSync(f).isFile())
  }

  test("a private memory's plaintext is in no file of the home, before and after the WAL checkpoint", async () => {
    const p = await spawnPod()
    try {
      const word = 'xylophonequartzmarmalade'
      expect((await p.api('POST', '/memories', { label: 'diary:today', content: `my secret ${word}` })).status).toBe(201)
      expect((await p.api('POST', '/memories', { label: 'public:today', content: 'visible marker bananaphone' })).status).toBe(201)
      const scan = (needle: string) => filesUnder(p.home).filter((f) => Buffer.from(require('node:fs').readFileSync(f)).includes(needle))
      expect(scan(word)).toEqual([])
      expect(scan('bananaphone').length).toBeGreaterThan(0) // the scan can find things
      expect(await p.stop()).toBe(0) // clean shutdown checkpoints the WAL
      expect(scan(word)).toEqual([])
    } finally {
      await cleanup([p])
    }
  })

  test('logs never hold the admin token, a key or private content', async () => {
    // Its own traffic, so the check does not lean on what another test happened to send: a
    // private write, a refused one carrying the content, a wrong token and a bad path.
    const word = 'quinceaubergineharpsichord'
    expect((await pod.api('POST', '/memories', { label: 'diary:log-check', content: `private ${word}` })).status).toBe(201)
    expect((await pod.api('POST', '/memories', { label: 'diary:log-check', content: word, extra: word })).status).toBe(400)
    expect((await fetch(pod.url + '/memories', { headers: { authorization: `Bearer ${pod.token()}x` } })).status).toBe(401)
    expect((await pod.api('GET', `/memories/${word}`)).status).toBe(400)
    const fs = await import('node:fs')
    const secrets = [
      pod.token(),
      fs.readFileSync(`${pod.home}/vault.key`, 'utf8').trim(),
      fs.readFileSync(`${pod.home}/peer-keys/self.key`, 'utf8').trim(),
      word,
    ]
    const logs = pod.logs()
    expect(logs).toContain('op=listen') // the log was captured at all
    for (const s of secrets) expect(logs).not.toContain(s)
  })
})
