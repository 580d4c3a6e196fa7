/** Every peer's sync state and copy count in one read each: the same as asking peer by peer. */
import { expect, test } from 'bun:test'
import type { Store } from '../../src/store'
import { PEER_A, PEER_B, storeEachTest, wire } from './_temp-store'

let store: Store
storeEachTest((fresh) => ({ store } = fresh))

const NEVER = '33333333-4444-4555-8666-777777777777'

test('peerStates and copyCounts agree with peerState and countPeerCopies for every peer', () => {
  store.applyRemote(PEER_A, [wire('a1', 'public:x', 'one'), wire('a2', 'public:y', 'two')], 'c1')
  store.applyRemote(PEER_B, [wire('b1', 'public:z', 'three')], 'c2')
  store.recordPull(PEER_B, { ok: false, error: 'unreachable' })
  store.recordPull(PEER_B, { ok: false, error: 'unreachable' })
  // A served page still waiting in the turn's deferred write counts too.
  store.recordServedPage(PEER_A, [{ id: 'q', deleted: true }], ['public:*'])
  const states = store.peerStates()
  const counts = store.copyCounts()
  for (const id of [PEER_A, PEER_B]) {
    expect(states.get(id)).toEqual(store.peerState(id))
    expect(counts.get(id)).toBe(store.countPeerCopies(id))
  }
  expect(states.get(PEER_A)!.served_total).toBe(1)
  expect(states.get(PEER_B)!.consecutive_failures).toBe(2)
  expect([counts.get(PEER_A), counts.get(PEER_B)]).toEqual([2, 1])
  // A peer never pulled from nor served has neither.
  expect(states.has(NEVER)).toBe(false)
  expect(counts.has(NEVER)).toBe(false)
  expect(store.countPeerCopies(NEVER)).toBe(0)
})
