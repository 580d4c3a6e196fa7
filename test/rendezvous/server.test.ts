import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FakeClock } from '../../src/lib/clock'
import { memoryLogger } from '../../src/lib/log'
import { openRendezvousStore, resolveRendezvousHome, sha256Hex, startRendezvous, type RendezvousService } from '../../src/rendezvous'

const ID = '6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f'
const KEY = 'k2Vb7mQ1xYp3Zr8sT4uW9aB6cD0eF5gH1iJ2kL3mN4o'

let dir: string
let home: string
let clock: FakeClock
let log: ReturnType<typeof memoryLogger>
let service: RendezvousService | null

beforeEach(() => {
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
  test('creates its home 0700 and db 0600, logs op=listen, serves the contract over HTTP', async () => {
    service = await startRendezvous({ home, port: 0, host: '127.0.0.1', clock, log })
    expect(statSync(home).mode & 0o777).toBe(0o700)
    expect(statSync(join(home, 'rendezvous.db')).mode & 0o777).toBe(0o600)
    expect(log.lines.some((l) => l.includes('op=listen') && l.includes(`url=${service!.url}`))).toBe(true)

    const { token } = issueToken() // written by another connection while the service runs
    const reg = await fetch(`${service.url}/api/peers/register`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ peer_id: ID, url: 'http://100.64.0.9:8765', key_hash: sha256Hex(KEY) }),
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
    const big = JSON.stringify({ peer_id: ID, url: 'http://a/' + 'x'.repeat(10_000), key_hash: sha256Hex(KEY) })
    const plain = await fetch(`${service.url}/api/peers/register`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: big })
    expect(plain.status).toBe(413)
    expect((await plain.json()).error).toBe('too_large')
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(big))
        c.close()
      },
    })
    const chunked = await fetch(`${service.url}/api/peers/register`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: stream })
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

describe('resolveRendezvousHome', () => {
  test('--home wins, else ~/.mazemaker-rendezvous', () => {
    expect(resolveRendezvousHome('/srv/rv', { HOME: '/home/x' })).toBe('/srv/rv')
    expect(resolveRendezvousHome(undefined, { HOME: '/home/x' })).toBe('/home/x/.mazemaker-rendezvous')
  })
})
