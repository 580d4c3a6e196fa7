/**
 * The rendezvous app carries its routes' inputs and answers in its type (RendezvousAppType):
 * validators in the chain, not parses inside handlers. tsc (run by `npm test`) checks
 * `typeChecks`: a route that stops being typed leaves a `@ts-expect-error` unused and fails the
 * type-check. The same typed calls then run against the app in process.
 */
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { hc } from 'hono/client'
import { loadOrCreateX25519KeyPair } from '../../src/identity'
import { FakeClock } from '../../src/lib/clock'
import { memoryLogger } from '../../src/lib/log'
import { createRendezvousApp, type RendezvousAppType } from '../../src/rendezvous/app'
import { openRendezvousStore, type RendezvousStore } from '../../src/rendezvous/store'
import { signedRegistration } from '../../src/sync/rendezvous-client'
import { ID_A, testIdentity } from '../identity/_keypair'

type Client = ReturnType<typeof hc<RendezvousAppType>>

let dir: string
let db: RendezvousStore
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mzm-rv-type-'))
})
afterEach(() => {
  db?.close()
  rmSync(dir, { recursive: true, force: true })
})

/** Never called: tsc checks it. Each `@ts-expect-error` is a call the routes' types must refuse. */
export function typeChecks(rv: Client, body: { peer_id: string; url: string; key: string; ts: number; proof: string }) {
  void rv.api.peers.register.$post({ json: body })
  // @ts-expect-error ts is a number of seconds
  void rv.api.peers.register.$post({ json: { ...body, ts: '1' } })
  // @ts-expect-error the proof is required
  void rv.api.peers.register.$post({ json: { peer_id: body.peer_id, url: body.url, key: body.key, ts: body.ts } })
  void rv.api.peers.lookup[':id'].$get({ param: { id: body.peer_id }, header: { 'mzm-peer-key': body.key } })
  // @ts-expect-error the key travels in the Mzm-Peer-Key header
  void rv.api.peers.lookup[':id'].$get({ param: { id: body.peer_id } })
  void rv.api.rendezvous.$get().then(async (res) => {
    const info = await res.json()
    void info.key.length
    // @ts-expect-error the info answer has key and version only
    void info.url
  })
  void rv.api.peers.lookup[':id'].$get({ param: { id: body.peer_id }, header: { 'mzm-peer-key': body.key } }).then(async (res) => {
    if (res.status !== 200) return
    const found = await res.json()
    void found.expires_at.length
    // @ts-expect-error a found registration has no error
    void found.error
  })
}

test('register and look up through the typed client; a bad id keeps its 400 message', async () => {
  const clock = new FakeClock()
  db = openRendezvousStore(join(dir, 'rendezvous.db'), clock)
  const key = await loadOrCreateX25519KeyPair(join(dir, 'rendezvous.key'), 'rendezvous.key', 'restore it')
  const app = createRendezvousApp({ db, key, clock, log: memoryLogger(), getIp: () => '198.51.100.1' })
  const token = db.createToken('test').token
  const rv = hc<RendezvousAppType>('http://rv', { fetch: (input: RequestInfo | URL, init?: RequestInit) => app.request(input, init) })
  const pod = await testIdentity(ID_A)

  const info = await (await rv.api.rendezvous.$get()).json()
  expect(info.key).toBe(key.publicKey)
  const body = await signedRegistration(pod, info.key as never, 'https://pod.example.ts.net', clock.now())
  const reg = await rv.api.peers.register.$post({ json: body }, { headers: { authorization: `Bearer ${token}` } })
  expect(reg.status).toBe(200)

  const found = await rv.api.peers.lookup[':id'].$get({ param: { id: ID_A }, header: { 'mzm-peer-key': pod.publicKey } })
  expect(found.status).toBe(200)
  if (found.status === 200) expect((await found.json()).url).toBe('https://pod.example.ts.net')

  const badId = await rv.api.peers.lookup[':id'].$get({ param: { id: 'NOT-A-UUID' }, header: { 'mzm-peer-key': pod.publicKey } })
  // Thrown refusals (the shared error handler) are not in the route type: only 200 and 404 are.
  expect(badId.status as number).toBe(400)
  expect(await badId.json()).toEqual({ error: 'bad_input', message: 'peer id in the path must be a lowercase UUID' })
})
