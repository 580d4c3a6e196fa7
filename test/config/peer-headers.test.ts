/**
 * Per-peer secret headers: peer-keys/headers/<id>.toml, 0600, written atomically;
 * names validated as tokens, reserved ones refused, values one line; sent on every request to
 * that peer (here through an Access-style proxy that refuses requests without them and records
 * what arrives); never logged, never shown back in full, deleted with the peer.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BadInput } from '../../src/lib/errors'
import { memoryLogger } from '../../src/lib/log'
import type { PodId } from '../../src/identity'
import { PeerHeaders } from '../../src/config'
import { startPod, type Pod } from '../../src/pod'
import { runCli, spawnPod, cleanup, tempHome, type PodProcess } from '../helpers/pod-process'

const ID = '6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f' as PodId
const CLIENT_ID = 'a1b2c3d4e5f6.access'
const SECRET = 'Zq9-SECRET-never-in-logs-5c0e3f1b7d2a4e6c8b0d'

let dirs: string[] = []
let pods: Pod[] = []
let procs: PodProcess[] = []
let servers: { stop(force?: boolean): unknown }[] = []
afterEach(async () => {
  for (const p of pods) await p.close()
  for (const s of servers) await s.stop(true)
  await cleanup(procs)
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
  dirs = []
  pods = []
  procs = []
  servers = []
})

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'mzm-headers-'))
  dirs.push(d)
  return d
}

describe('PeerHeaders file', () => {
  test('set writes 0600 atomically (dir 0700), get reads it back, list masks, unset removes, the last unset deletes the file', () => {
    const dir = join(tempDir(), 'headers')
    const h = new PeerHeaders({ dir })
    const old = process.umask(0)
    try {
      h.set(ID, 'CF-Access-Client-Id', CLIENT_ID)
      h.set(ID, 'CF-Access-Client-Secret', SECRET)
    } finally {
      process.umask(old)
    }
    const path = join(dir, `${ID}.toml`)
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(statSync(dir).mode & 0o777).toBe(0o700)
    expect(readFileSync(path, 'utf8')).toContain(`CF-Access-Client-Secret = "${SECRET}"`)
    expect(h.get(ID)).toEqual({ 'CF-Access-Client-Id': CLIENT_ID, 'CF-Access-Client-Secret': SECRET })
    const listed = h.list(ID)
    expect(listed.map((x) => x.name)).toEqual(['CF-Access-Client-Id', 'CF-Access-Client-Secret'])
    expect(JSON.stringify(listed)).not.toContain(SECRET)
    expect(JSON.stringify(listed)).not.toContain(CLIENT_ID)
    expect(listed[1]!.value).toBe(`Zq9-…(${SECRET.length} chars)`)
    // Same name in another case replaces it.
    h.set(ID, 'cf-access-client-id', 'other.access')
    expect(Object.keys(h.get(ID))).toEqual(['CF-Access-Client-Secret', 'cf-access-client-id'])
    expect(h.unset(ID, 'CF-ACCESS-CLIENT-ID')).toBe(true)
    expect(h.unset(ID, 'nope')).toBe(false)
    expect(h.unset(ID, 'CF-Access-Client-Secret')).toBe(true)
    expect(existsSync(path)).toBe(false)
    expect(h.get(ID)).toEqual({})
  })

  const refused: [string, string, string, RegExp][] = [
    ['Authorization', 'Authorization', 'x', /set by the pod or the transport/],
    ['Content-Type', 'content-type', 'x', /set by the pod or the transport/],
    ['Content-Length', 'Content-Length', '1', /set by the pod or the transport/],
    ['Host', 'Host', 'evil.example', /set by the pod or the transport/],
    ['hop-by-hop Connection', 'Connection', 'close', /set by the pod or the transport/],
    ['Transfer-Encoding', 'Transfer-Encoding', 'chunked', /set by the pod or the transport/],
    ['Mzm-*', 'Mzm-Signature', 'x', /reserved for the protocol/],
    ['a name that is not a token', 'Bad Name', 'x', /must be an HTTP token/],
    ['a name with a colon', 'X-A:b', 'x', /must be an HTTP token/],
    ['a value with CR LF', 'X-Token', 'a\r\nX-Injected: 1', /must be one line/],
    ['a value with LF', 'X-Token', 'a\nb', /must be one line/],
    ['an empty value', 'X-Token', '  ', /must not be empty/],
    ['a non-ASCII value', 'X-Token', 'caf\u00e9', /visible ASCII/],
  ]
  test.each(refused)('refuses %s', (_n, name, value, message) => {
    const h = new PeerHeaders({ dir: join(tempDir(), 'headers') })
    expect(() => h.set(ID, name, value)).toThrow(BadInput)
    expect(() => h.set(ID, name, value)).toThrow(message)
  })

  test('a file others can read, or one edited by hand into a refused header, is an error, never sent silently', () => {
    const dir = join(tempDir(), 'headers')
    const h = new PeerHeaders({ dir })
    h.set(ID, 'X-Token', SECRET)
    const path = join(dir, `${ID}.toml`)
    chmodSync(path, 0o644)
    expect(() => h.get(ID)).toThrow(/mode 0644 and holds secrets; run: chmod 600/)
    writeFileSync(path, 'Authorization = "Bearer x"\n', { mode: 0o600 })
    chmodSync(path, 0o600)
    expect(() => h.get(ID)).toThrow(/header "Authorization" is set by the pod/)
    // The error names the file, never the value.
    writeFileSync(path, `X-Token = "${SECRET}\\nX: y"\n`)
    try {
      h.get(ID)
      throw new Error('should have thrown')
    } catch (err) {
      expect((err as Error).message).toMatch(/must be one line/)
      expect((err as Error).message).not.toContain(SECRET)
    }
  })
})

describe('the origins headers are for', () => {
  const ACCESS = 'https://wonder-alice.team.example'
  const noBinding = () => {
    throw new Error('a file with `for` is never bound again')
  }

  test('sent only to a listed origin, over https or http to loopback; withheld elsewhere, saying why', () => {
    const h = new PeerHeaders({ dir: join(tempDir(), 'headers') })
    h.set(ID, 'CF-Access-Client-Secret', SECRET, [ACCESS, 'http://127.0.0.1:8443'])
    expect(h.forUrl(ID, `${ACCESS}/mzm`, noBinding)).toEqual({ headers: { 'CF-Access-Client-Secret': SECRET }, withheld: null })
    expect(h.forUrl(ID, 'http://127.0.0.1:8443/x', noBinding).headers).toEqual({ 'CF-Access-Client-Secret': SECRET })
    // Another port, another scheme, another host, a rendezvous's answer: none of them listed.
    for (const url of [`${ACCESS}:8443`, 'https://evil.example', 'http://127.0.0.1:9']) {
      const r = h.forUrl(ID, url, noBinding)
      expect({ url, headers: r.headers }).toEqual({ url, headers: {} })
      expect(r.withheld).toContain('is not among the origins')
    }
    expect(h.forUrl(ID, 'http://wonder-alice.team.example', noBinding)).toMatchObject({ headers: {}, withheld: expect.stringContaining('plain http') })
    expect(h.forUrl(ID, 'http://192.168.1.20:8765', noBinding).withheld).toContain('plain http to another machine')
  })

  test('`for` names origins only: https, or http to loopback; never plain http to another machine, never a path', () => {
    const h = new PeerHeaders({ dir: join(tempDir(), 'headers') })
    h.set(ID, 'X-Token', SECRET, [ACCESS])
    expect(() => h.setOrigins(ID, ['http://192.168.1.20:8765'])).toThrow(/must be https/)
    expect(() => h.setOrigins(ID, [`${ACCESS}/mzm`])).toThrow(/origin only/)
    expect(() => h.setOrigins(ID, ['mzm-rendezvous://x'])).toThrow(/http\(s\) origin/)
    expect(h.setOrigins(ID, ['HTTPS://Wonder-Alice.team.example/', 'http://localhost:8080'])).toEqual([ACCESS, 'http://localhost:8080'])
    expect(() => h.set(ID, 'for', 'x')).toThrow(/list of origins/)
  })

  test('set without origins binds a new file to the origins given as default, keeps an existing list', () => {
    const h = new PeerHeaders({ dir: join(tempDir(), 'headers') })
    h.set(ID, 'X-One', 'a', undefined, [ACCESS])
    expect(h.origins(ID)).toEqual([ACCESS])
    h.set(ID, 'X-Two', 'b', undefined, ['https://other.example'])
    expect(h.origins(ID)).toEqual([ACCESS])
    h.set(ID, 'X-Three', 'c', [])
    expect(h.origins(ID)).toEqual([])
    expect(h.forUrl(ID, `${ACCESS}/`, noBinding).headers).toEqual({})
  })

  test('a file from before `for` is bound once to the caller’s origins, written back, and the caller told', () => {
    const dir = join(tempDir(), 'headers')
    const h = new PeerHeaders({ dir })
    h.set(ID, 'X-Token', SECRET, [])
    const path = join(dir, `${ID}.toml`)
    writeFileSync(path, `X-Token = "${SECRET}"\n`, { mode: 0o600 })
    expect(h.origins(ID)).toBeNull()
    const told: string[][] = []
    const first = h.forUrl(
      ID,
      `${ACCESS}/mzm`,
      () => [ACCESS],
      (o) => told.push(o),
    )
    expect(first.headers).toEqual({ 'X-Token': SECRET })
    expect(told).toEqual([[ACCESS]])
    expect(readFileSync(path, 'utf8')).toContain(`for = [ "${ACCESS}" ]`)
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(h.forUrl(ID, 'http://192.0.2.10:8765', noBinding).headers).toEqual({})
    expect(told).toHaveLength(1)
  })
})

/**
 * An Access-style front for pod `a`: refuses (403) any request without the two headers, records
 * every header set it saw, and forwards the rest to the pod under a path prefix.
 */
function accessProxy(target: string) {
  const seen: Record<string, string>[] = []
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req) {
      const url = new URL(req.url)
      seen.push(Object.fromEntries(req.headers.entries()))
      if (req.headers.get('cf-access-client-id') !== CLIENT_ID || req.headers.get('cf-access-client-secret') !== SECRET) {
        return new Response('forbidden', { status: 403 })
      }
      if (!url.pathname.startsWith('/mzm/')) return new Response('not found', { status: 404 })
      const headers = new Headers(req.headers)
      headers.delete('cf-access-client-id')
      headers.delete('cf-access-client-secret')
      return fetch(target + url.pathname.slice('/mzm'.length), { method: req.method, headers, body: await req.arrayBuffer() })
    },
  })
  servers.push(server)
  return { url: `http://127.0.0.1:${server.port}/mzm`, seen }
}

test('headers arrive on every request to that peer (sync pulls), the pull works only with them, and they are never logged', async () => {
  const logA = memoryLogger()
  const logB = memoryLogger()
  const homeA = tempHome()
  const homeB = tempHome()
  dirs.push(homeA, homeB)
  const a = await startPod({ home: homeA, port: 0, host: '127.0.0.1', log: logA, autoSync: false })
  const b = await startPod({ home: homeB, port: 0, host: '127.0.0.1', log: logB, autoSync: false })
  pods.push(a, b)
  const proxy = accessProxy(a.url)
  b.home.peers.add({ id: a.home.identity.podId, key: a.home.identity.publicKey, url: proxy.url })
  a.home.peers.add({ id: b.home.identity.podId, key: b.home.identity.publicKey, url: '' })
  a.store.remember({ label: 'public:behind-access', content: 'only with the service token' })

  // Without the headers the proxy refuses: a plain HTTP error, nothing stored.
  const [without] = await b.syncNow()
  expect(without).toMatchObject({ ok: false, error: 'http_403' })

  // Set through the admin API (what `peer headers set` calls): the answer is masked.
  const api = (method: string, path: string, body?: unknown) =>
    fetch(b.url + path, {
      method,
      headers: { authorization: `Bearer ${b.home.identity.adminToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  for (const [name, value] of [
    ['CF-Access-Client-Id', CLIENT_ID],
    ['CF-Access-Client-Secret', SECRET],
  ]) {
    const res = await api('PUT', `/peer/peers/${a.id}/headers/${name}`, { value })
    expect(res.status).toBe(200)
    expect(await res.text()).not.toContain(SECRET)
  }
  const bad = await api('PUT', `/peer/peers/${a.id}/headers/Authorization`, { value: 'x' })
  expect(bad.status).toBe(400)
  const [withHeaders] = await b.syncNow()
  expect(withHeaders).toMatchObject({ ok: true, stored: 1 })
  const last = proxy.seen.at(-1)!
  expect(last['cf-access-client-secret']).toBe(SECRET)
  // The protocol's own headers are intact.
  expect(last.authorization).toStartWith('Bearer mzm1.')

  // Never in either pod's log (debug level included), never in the peer list.
  for (const line of [...logA.lines, ...logB.lines]) {
    expect(line).not.toContain(SECRET)
    expect(line).not.toContain(CLIENT_ID)
  }
  expect(logB.lines.some((l) => l.includes('op=peer_headers') && l.includes('CF-Access-Client-Secret'))).toBe(true)
  const listed = await (await api('GET', `/peer/peers/${a.id}/headers`)).text()
  expect(listed).not.toContain(SECRET)
  expect(JSON.parse(listed).headers.map((h: { name: string }) => h.name)).toEqual(['CF-Access-Client-Id', 'CF-Access-Client-Secret'])

  // Deleted with the peer.
  const path = join(homeB, 'peer-keys', 'headers', `${a.id}.toml`)
  expect(statSync(path).mode & 0o777).toBe(0o600)
  expect((await api('DELETE', `/peer/peers/${a.id}`)).status).toBe(200)
  expect(existsSync(path)).toBe(false)
}, 30_000)

test('CLI: peer headers set / list (masked) / unset; the value never reaches the pod log', async () => {
  const b = await spawnPod()
  procs.push(b)
  const hs = 'mzm-handshake://6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f?key=n_RzHuTRHYvqrJ0dN44D_kgQ1esIx06jVNu7puWYDHQ'
  expect((await runCli(['peer', 'add', hs, '--url', 'https://alca.example.org/mzm', '--home', b.home])).code).toBe(0)
  const set = await runCli(['peer', 'headers', 'set', '6356db37', 'CF-Access-Client-Secret', SECRET, '--home', b.home])
  expect(set.code).toBe(0)
  expect(set.stdout).toContain(`CF-Access-Client-Secret: Zq9-…(${SECRET.length} chars)`)
  expect(set.stdout).not.toContain(SECRET)
  // Bound to the origin of the peer's (operator-set) URL.
  expect(set.stdout).toContain('for: https://alca.example.org (only; never plain http except loopback)')
  const list = await runCli(['peer', 'headers', 'list', '6356db37', '--json', '--home', b.home])
  expect(JSON.parse(list.stdout)).toEqual({
    headers: [{ name: 'CF-Access-Client-Secret', value: `Zq9-…(${SECRET.length} chars)` }],
    for: ['https://alca.example.org'],
  })
  const bound = await runCli(['peer', 'headers', 'for', '6356db37', 'https://alca-access.example.org,http://127.0.0.1:8080', '--home', b.home])
  expect(bound.code).toBe(0)
  expect(bound.stdout).toContain('for: https://alca-access.example.org, http://127.0.0.1:8080')
  const lan = await runCli(['peer', 'headers', 'for', '6356db37', 'http://192.168.1.20:8765', '--home', b.home])
  expect(lan.code).toBe(1)
  expect(lan.stderr).toContain('must be https')
  const unset = await runCli(['peer', 'headers', 'unset', '6356db37', 'CF-Access-Client-Secret', '--home', b.home])
  expect(unset.code).toBe(0)
  expect(unset.stdout).toContain('no headers')
  const refused = await runCli(['peer', 'headers', 'set', '6356db37', 'Host', 'x', '--home', b.home])
  expect(refused.code).toBe(1)
  expect(refused.stderr).toMatch(/cannot be overridden/)
  expect(b.logs()).not.toContain(SECRET)
}, 60_000)
