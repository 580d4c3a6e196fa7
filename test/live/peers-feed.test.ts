/**
 * The peer list for live views at hub scale: a stream starts whole, then hears only the peers
 * that changed, gathered per window and built once for every stream, with time on a FakeClock.
 */
import { describe, expect, test } from 'bun:test'
import type { PeersChangedEvent, PeersOverview, PeerView } from '../../src/api/types'
import { FakeClock } from '../../src/lib/clock'
import { createPeersFeed, PEERS_RECONCILE_MS, PEERS_WINDOW_MS, type PeersFeedSource } from '../../src/live'
import { summarize } from '../../src/sync/peer-overview'

const PEERS = 2000

function hubPeer(i: number): PeerView {
  return {
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    name: `spoke-${String(i).padStart(4, '0')}`,
    url: 'http://127.0.0.1:9',
    urls: ['http://127.0.0.1:9'],
    sync: true,
    live: true,
    scope: 'public:*',
    status: 'error',
    hint: 'Next: check that the peer is running and reachable at http://127.0.0.1:9',
    last_sync_at: null,
    last_error: 'request_failed: connection refused',
    memories: 0,
    resolved_url: null,
    headers: [],
  }
}

/** A hub of PEERS peers whose entries the test edits, counting what the feed asks it to build. */
function hub() {
  const peers = new Map(Array.from({ length: PEERS }, (_, i) => [hubPeer(i).id, hubPeer(i)] as const))
  const built = { overviews: 0, peers: [] as string[][] }
  const source: PeersFeedSource = {
    overview(): PeersOverview {
      built.overviews++
      const all = [...peers.values()].map((p) => ({ ...p }))
      return { peers: all, summary: summarize(all), error: null, unknown_callers: [] }
    },
    peers(ids) {
      built.peers.push([...ids])
      return { views: new Map(ids.map((id) => [id, peers.has(id) ? { ...peers.get(id)! } : null])), error: null, unknown_callers: [] }
    },
  }
  const ids = [...peers.keys()]
  return { peers, built, source, ids }
}

function stream(feed: ReturnType<typeof createPeersFeed>) {
  const got: PeersChangedEvent[] = []
  const sub = feed.subscribe((e) => got.push(e))
  return { got, ...sub }
}

/** Lets the window's sleep resolve and its flush run. */
async function passWindow(clock: FakeClock) {
  clock.advance(PEERS_WINDOW_MS)
  await Bun.sleep(0)
}

describe('peers feed', () => {
  test('a status change of one peer among 2,000 sends one peer, not the list', async () => {
    const h = hub()
    const clock = new FakeClock()
    const feed = createPeersFeed(h.source, clock)
    const s = stream(feed)
    const snapshotBytes = JSON.stringify(s.snapshot).length
    expect(s.snapshot.peers).toHaveLength(PEERS)

    const id = h.ids[1234]!
    h.peers.set(id, { ...h.peers.get(id)!, status: 'paused', sync: false, hint: null, last_error: null })
    feed.changed(id)
    await passWindow(clock)

    expect(s.got).toHaveLength(1)
    const e = s.got[0]!
    expect(e.peers.map((p) => [p.id, p.status])).toEqual([[id, 'paused']])
    expect(e.removed).toEqual([])
    expect(e.summary).toBe('0 ready · 0 handshake-pending · 1999 error · 1 paused')
    // Proportional to one peer: its entry plus the summary line, against ~1,000 times that for the list.
    const onePeer = JSON.stringify(h.peers.get(id)).length
    expect(JSON.stringify(e).length).toBeLessThan(onePeer + 200)
    expect(snapshotBytes).toBeGreaterThan(500 * JSON.stringify(e).length)
    s.unsubscribe()
    feed.close()
  })

  test('three streams, a burst of changes within one window: each changed peer is built once, one frame for all', async () => {
    const h = hub()
    const clock = new FakeClock()
    const feed = createPeersFeed(h.source, clock)
    const streams = [stream(feed), stream(feed), stream(feed)]
    const [a, b] = [h.ids[1]!, h.ids[2]!]
    for (const id of [a, b, a, a]) {
      h.peers.set(id, { ...h.peers.get(id)!, memories: h.peers.get(id)!.memories + 1 })
      feed.changed(id)
    }
    await passWindow(clock)
    expect(h.built.peers).toEqual([[a, b]])
    for (const s of streams) expect(s.got).toHaveLength(1)
    // The very same frame for every stream (encoded once by the route).
    expect(streams[1]!.got[0]).toBe(streams[0]!.got[0]!)
    expect(streams[0]!.got[0]!.peers.map((p) => [p.id, p.memories])).toEqual([
      [a, 3],
      [b, 1],
    ])
    for (const s of streams) s.unsubscribe()
    feed.close()
  })

  test('a pull that changed nothing sends nothing; a removed peer is named in removed', async () => {
    const h = hub()
    const clock = new FakeClock()
    const feed = createPeersFeed(h.source, clock)
    const s = stream(feed)
    feed.changed(h.ids[5])
    await passWindow(clock)
    expect(s.got).toEqual([])

    h.peers.delete(h.ids[5]!)
    feed.changed(h.ids[5])
    await passWindow(clock)
    expect(s.got.map((e) => [e.peers.length, e.removed])).toEqual([[0, [h.ids[5]!]]])
    expect(s.got[0]!.summary).toBe('0 ready · 0 handshake-pending · 1999 error')
    s.unsubscribe()
    feed.close()
  })

  test('with no stream open, a change costs nothing', async () => {
    const h = hub()
    const clock = new FakeClock()
    const feed = createPeersFeed(h.source, clock)
    feed.changed(h.ids[0])
    feed.changed()
    await passWindow(clock)
    clock.advance(PEERS_RECONCILE_MS)
    await Bun.sleep(0)
    expect(h.built).toEqual({ overviews: 0, peers: [] })
    // And after the last stream leaves, neither windows nor rebuilds run.
    stream(feed).unsubscribe()
    expect(h.built.overviews).toBe(1)
    feed.changed(h.ids[0])
    clock.advance(PEERS_RECONCILE_MS)
    await Bun.sleep(0)
    expect(h.built).toEqual({ overviews: 1, peers: [] })
    feed.close()
  })

  test('a change nobody reported (peers.toml edited by hand) arrives with the next whole rebuild', async () => {
    const h = hub()
    const clock = new FakeClock()
    const feed = createPeersFeed(h.source, clock)
    const s = stream(feed)
    const gone = h.ids[7]!
    h.peers.delete(gone)
    const added = hubPeer(PEERS + 1)
    h.peers.set(added.id, added)
    clock.advance(PEERS_RECONCILE_MS)
    await Bun.sleep(0)
    await passWindow(clock)
    expect(s.got.map((e) => [e.peers.map((p) => p.id), e.removed])).toEqual([[[added.id], [gone]]])
    s.unsubscribe()
    feed.close()
  })

  test('a new stream starts whole; the streams already open hear what its snapshot shows differently', async () => {
    const h = hub()
    const clock = new FakeClock()
    const feed = createPeersFeed(h.source, clock)
    const first = stream(feed)
    const id = h.ids[42]!
    h.peers.set(id, { ...h.peers.get(id)!, status: 'ready', last_error: null, hint: null })
    const second = stream(feed)
    expect(second.snapshot.peers.find((p) => p.id === id)!.status).toBe('ready')
    expect(second.got).toEqual([])
    expect(first.got.map((e) => e.peers.map((p) => [p.id, p.status]))).toEqual([[[id, 'ready']]])
    first.unsubscribe()
    second.unsubscribe()
    feed.close()
  })
})
