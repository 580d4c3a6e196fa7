import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FakeClock } from '../../src/lib/clock'
import { memoryLogger } from '../../src/lib/log'
import type { Identity, PublicKey } from '../../src/identity'
import { openRendezvousStore, resolveRendezvousHome, startRendezvous, type RendezvousService } from '../../src/rendezvous'
import { signedRegistration } from '../../src/sync/rendezvous-client'
import { ID_A, testIdentity } from '../identity/_keypair'

const ID = ID_A
let pod: Identity
let KEY: string

let dir: string
let home: string
let clock: FakeClock
let log: ReturnType<typeof memoryLogger>
let service: RendezvousService | null

beforeEach(async () => {
  pod = await testIdentity(ID)
  KEY = pod.publicKey
  dir = mkdtempSync(join(tmpdir(), 'mzm-rv-server-'))
  home = join(dir, 'rv-home')
  clock = new FakeClock()
  log = memoryLogger()
  service = null
})

afterEach(async () => {
  await service?.close()
  rmSync(dir, { recursive: true, force: true })
})

async function rendezvousKey(url: string): Promise<PublicKey> {
  const res = await fetch(`${url}/api/rendezvous`)
  expect(res.status).toBe(200)
  return ((await res.json()) as { key: PublicKey }).key
}

/** Tokens are issued through the store, as `mazemaker rendezvous token create` does, even while the service runs. */
function issueToken(): { id: string; token: string } {
  const db = openRendezvousStore(join(home, 'rendezvous.db'), clock)
  try {
    return db.createToken('test')
  } finally {
    db.close()
  }
}

describe('startRendezvous', () => {
  test('creates its home 0700, db and key 0600, logs op=listen, serves the contract over HTTP', async () => {
    service = await startRendezvous({ home, port: 0, host: '127.0.0.1', clock, log })
    expect(statSync(home).mode & 0o777).toBe(0o700)
    expect(statSync(join(home, 'rendezvous.db')).mode & 0o777).toBe(0o600)
    expect(statSync(join(home, 'rendezvous.key')).mode & 0o777).toBe(0o600)
    expect(readFileSync(join(home, 'rendezvous.key'), 'utf8')).toMatch(/^[A-Za-z0-9_-]{43}\n$/)
    expect(log.lines.some((l) => l.includes('op=listen') && l.includes(`url=${service!.url}`))).toBe(true)
    expect(log.lines.some((l) => l.includes('op=init') && l.includes('rendezvous.key'))).toBe(true)

    const { token } = issueToken() // written by another connection while the service runs
    const key = await rendezvousKey(service.url)
    const reg = await fetch(`${service.url}/api/peers/register`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(await signedRegistration(pod, key, 'http://100.64.0.9:8765', clock.now())),
    })
    expect(reg.status).toBe(200)
    const viaHeader = await fetch(`${service.url}/api/peers/lookup/${ID}`, { headers: { 'Mzm-Peer-Key': KEY } })
    expect(await viaHeader.json()).toMatchObject({ peer_id: ID, url: 'http://100.64.0.9:8765' })
    const viaQuery = await fetch(`${service.url}/api/peers/lookup/${ID}?key=${KEY}`)
    expect(await viaQuery.json()).toMatchObject({ url: 'http://100.64.0.9:8765' })
    expect(await (await fetch(`${service.url}/healthz`)).json()).toMatchObject({ ok: true, service: 'rendezvous' })
  })

  test('rate limits by the socket address (Bun requestIP)', async () => {
    service = await startRendezvous({ home, port: 0, host: '127.0.0.1', clock, log })
    const statuses: number[] = []
    for (let i = 0; i < 31; i++) statuses.push((await fetch(`${service.url}/api/peers/lookup/${ID}`, { headers: { 'mzm-peer-key': KEY } })).status)
    expect(statuses.slice(0, 30).every((s) => s === 404)).toBe(true)
    expect(statuses[30]).toBe(429)
    expect(log.lines.some((l) => l.includes('err=rate_limited') && l.includes('127.0.0.1'))).toBe(true)
  })

  test('an oversized body over a real socket is a JSON 413, also without content-length', async () => {
    service = await startRendezvous({ home, port: 0, host: '127.0.0.1', clock, log })
    const { token } = issueToken()
    const big = JSON.stringify(await signedRegistration(pod, await rendezvousKey(service.url), 'http://a/' + 'x'.repeat(10_000), clock.now()))
    const plain = await fetch(`${service.url}/api/peers/register`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: big,
    })
    expect(plain.status).toBe(413)
    expect((await plain.json()).error).toBe('too_large')
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(big))
        c.close()
      },
    })
    const chunked = await fetch(`${service.url}/api/peers/register`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: stream,
    })
    expect(chunked.status).toBe(413)
  })

  test('close() stops the server and the db; the port rebinds; close is idempotent', async () => {
    service = await startRendezvous({ home, port: 0, host: '127.0.0.1', clock, log })
    const port = Number(new URL(service.url).port)
    await service.close()
    await service.close()
    await expect(fetch(`${service.url}/healthz`)).rejects.toThrow()
    service = await startRendezvous({ home, port, host: '127.0.0.1', clock, log })
    expect(service.url).toBe(`http://127.0.0.1:${port}`)
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200)
  })
})

describe('the rendezvous key pair', () => {
  test('is created once under umask 0 as 0600 and kept across restarts', async () => {
    const old = process.umask(0)
    try {
      service = await startRendezvous({ home, port: 0, host: '127.0.0.1', clock, log })
    } finally {
      process.umask(old)
    }
    expect(statSync(join(home, 'rendezvous.key')).mode & 0o777).toBe(0o600)
    const first = await rendezvousKey(service.url)
    const file = readFileSync(join(home, 'rendezvous.key'), 'utf8')
    await service.close()
    service = await startRendezvous({ home, port: 0, host: '127.0.0.1', clock, log })
    expect(await rendezvousKey(service.url)).toBe(first)
    expect(readFileSync(join(home, 'rendezvous.key'), 'utf8')).toBe(file)
    expect(file).not.toContain(first) // the file holds the private half
  })

  test('a damaged or readable-by-others key file stops the service with a message naming it', async () => {
    service = await startRendezvous({ home, port: 0, host: '127.0.0.1', clock, log })
    await service.close()
    service = null
    const keyPath = join(home, 'rendezvous.key')
    writeFileSync(keyPath, 'short\n', { mode: 0o600 })
    await expect(startRendezvous({ home, port: 0, host: '127.0.0.1', clock, log })).rejects.toThrow(/rendezvous\.key at .* is not 43 base64url characters/)
    writeFileSync(keyPath, 'A'.repeat(43) + '\n')
    chmodSync(keyPath, 0o644)
    await expect(startRendezvous({ home, port: 0, host: '127.0.0.1', clock, log })).rejects.toThrow(/rendezvous\.key at .* has mode 0644; run: chmod 600/)
  })
})

describe('resolveRendezvousHome', () => {
  test('--home wins, else ~/.mazemaker-rendezvous', () => {
    expect(resolveRendezvousHome('/srv/rv', { HOME: '/home/x' })).toBe('/srv/rv')
    expect(resolveRendezvousHome(undefined, { HOME: '/home/x' })).toBe('/home/x/.mazemaker-rendezvous')
  })
})
