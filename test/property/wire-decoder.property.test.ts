/**
 * Property test of the puller's wire decoding (src/sync/peer-client.ts + pull-peer.ts) on a
 * real store: a peer answers with random bytes, random JSON and near-valid pages, correctly
 * signed so the decoder really runs. The pull either stores a valid page or fails with one of
 * our errors (PodError) — never another exception past its boundary — and a failed pull stores
 * nothing and moves no cursor.
 */
import { expect, test } from 'bun:test'
import fc from 'fast-check'
import { randomBytes, randomUUID } from 'node:crypto'
import { importPairKey, type PodId, type PublicKey } from '../../src/identity'
import { parseAuthorization, sealKeys, sealResponse, signResponse } from '../../src/protocol'
import { FakeClock } from '../../src/lib/clock'
import { PodError } from '../../src/lib/errors'
import { openStore } from '../../src/store'
import { pullPeer } from '../../src/sync/pull-peer'

const SELF = randomUUID() as PodId
const PEER = randomUUID() as PodId
const KEY = 'A'.repeat(43) as PublicKey
const uuid = fc.uuid({ version: 4 })
const iso = fc.constantFrom('2026-05-01T00:00:00.000Z', '', 'yesterday', 'x'.repeat(41))

/** Near-valid entries: right shape with one thing off, or fine. */
const wireEntry = fc.oneof(
  fc.record({ id: uuid, label: fc.string({ maxLength: 20 }), content: fc.string({ maxLength: 20 }), created_at: iso, updated_at: iso }),
  fc.record({ id: uuid, deleted: fc.oneof(fc.constant(true), fc.anything()) }),
  fc.record({ id: fc.oneof(uuid, fc.string()), label: fc.anything(), content: fc.anything() }, { requiredKeys: [] }),
  fc.anything(),
)
const pageJson = fc.record(
  {
    pod_id: fc.oneof(fc.constant(PEER), uuid, fc.anything()),
    cursor: fc.oneof(fc.constant('c1'), fc.string({ maxLength: 70 }), fc.anything()),
    more: fc.oneof(fc.constant(false), fc.anything()),
    memories: fc.oneof(fc.array(wireEntry, { maxLength: 5 }), fc.anything()),
  },
  { requiredKeys: [] },
)
/** Fully valid pages, so the property also covers the storing path. */
const validPage = fc
  .uniqueArray(fc.record({ id: uuid, label: fc.stringMatching(/^public:[a-z0-9]{1,20}$/), content: fc.stringMatching(/^[a-z0-9 ]{1,40}$/) }), {
    selector: (e) => e.id,
    maxLength: 6,
  })
  .map((es) => ({
    pod_id: PEER,
    cursor: 'c1',
    more: false,
    memories: es.map((e) => ({ ...e, created_at: '2026-05-01T00:00:00.000Z', updated_at: '2026-05-01T00:00:00.000Z' })),
  }))
const body = fc.oneof(
  validPage.map((p) => new TextEncoder().encode(JSON.stringify(p))),
  pageJson.map((p) => new TextEncoder().encode(JSON.stringify(p) ?? 'null')),
  fc.jsonValue().map((j) => new TextEncoder().encode(JSON.stringify(j))),
  fc.uint8Array({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 100 }).map((s) => new TextEncoder().encode(s)),
)

test('random answers are stored only when valid; otherwise a PodError and nothing stored', async () => {
  const pairKey = await importPairKey(new Uint8Array(randomBytes(32)))
  let stored = 0
  let refused = 0
  await fc.assert(
    fc.asyncProperty(body, fc.constantFrom(200, 200, 200, 401, 500), async (bytes, status) => {
      const store = openStore({
        path: ':memory:',
        vaultKey: new Uint8Array(randomBytes(32)),
        publicPrefixes: ['public:'],
        maxContentBytes: 4096,
        clock: new FakeClock(),
      })
      try {
        const fakeFetch = (async (_url: string, init: RequestInit) => {
          const auth = parseAuthorization(new Headers(init.headers).get('authorization'))!
          // A 200 is sealed as the contract says (§5), so the random plaintext reaches the decoder.
          const sent = status === 200 ? sealResponse(sealKeys(pairKey, SELF, PEER), auth.nonce, bytes) : bytes
          const signature = await signResponse(pairKey, auth.nonce, sent)
          return new Response(sent as Uint8Array<ArrayBuffer>, { status, headers: { 'mzm-signature': signature } })
        }) as unknown as typeof fetch
        const ctx = { selfId: SELF, store, pairKey: async () => pairKey, now: () => Date.now(), fetch: fakeFetch }
        try {
          const totals = await pullPeer(ctx, { id: PEER, key: KEY, baseUrls: ['http://127.0.0.1:9'], scope: ['public:*'] })
          // Only a 200 carrying a valid page for this peer gets here, and what it stored is all there is.
          expect(status).toBe(200)
          expect(store.countPeerCopies(PEER)).toBe(totals.stored)
          stored++
        } catch (err) {
          expect(err).toBeInstanceOf(PodError)
          refused++
          expect(store.countPeerCopies(PEER)).toBe(0)
          expect(store.peerState(PEER).cursor).toBeNull()
        }
      } finally {
        store.close()
      }
    }),
    { numRuns: 400 },
  )
  expect(refused).toBeGreaterThan(100)
  expect(stored).toBeGreaterThan(10)
})
