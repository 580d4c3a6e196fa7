/**
 * GET /events and its bridge to the store: the pod journals pulled copies only while a stream is
 * connected. The guarantee under test: once a client has read the stream's first event (the
 * `peers` snapshot), every copy committed after that reaches it; with no client, copies cost no
 * journal row, and own memories still wake long-poll waiters.
 */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { inProcessPod, type InProcessPod } from '../helpers/in-process-pod'
import { writeHubPeers } from '../helpers/hub-peers'
import { PEER_A, wire } from '../store/_temp-store'

describe('GET /events against a pod', () => {
  let p: InProcessPod
  beforeEach(async () => {
    p = await inProcessPod()
  })
  afterEach(async () => {
    await p.close()
  })

  const page = (n: number, from = 0) =>
    Array.from({ length: n }, (_, i) => wire(`00000000-0000-4000-8000-${String(from + i).padStart(12, '0')}`, `public:c${from + i}`, 'copy'))

  async function openStream() {
    const ctl = new AbortController()
    const res = await p.request('/events', { headers: { authorization: `Bearer ${p.token()}` }, signal: ctl.signal })
    expect(res.status).toBe(200)
    const reader = res.body!.getReader()
    const dec = new TextDecoder()
    let buf = ''
    /** The next complete event (skipping pings), with its size on the wire. */
    async function next(): Promise<{ event: string; data: any; bytes: number }> {
      for (;;) {
        const end = buf.indexOf('\n\n')
        if (end >= 0) {
          const block = buf.slice(0, end)
          buf = buf.slice(end + 2)
          if (block.startsWith(':')) continue
          const event = /^event: (.*)$/m.exec(block)![1]!
          const data = JSON.parse(/^data: (.*)$/m.exec(block)![1]!)
          return { event, data, bytes: Buffer.byteLength(block) + 2 }
        }
        const { value, done } = await reader.read()
        if (done) throw new Error('stream ended')
        buf += dec.decode(value, { stream: true })
      }
    }
    return {
      next,
      close: async () => {
        await reader.cancel().catch(() => {})
        ctl.abort()
      },
    }
  }

  test('no client: a pull journals no copy; own writes still do', async () => {
    const store = p.pod.store
    store.remember({ label: 'public:mine', content: 'x' })
    const rows = store.journalStats().rows
    store.applyRemote(PEER_A, page(40), '1')
    expect(store.journalStats()).toEqual({ rows, copies: false })
    store.remember({ label: 'public:mine2', content: 'y' })
    expect(store.journalStats().rows).toBe(rows + 1)
  })

  test('a client that has the first event sees every copy committed after it; when it leaves, copies stop costing rows', async () => {
    const store = p.pod.store
    const s = await openStream()
    expect((await s.next()).event).toBe('peers')
    // Committed right after the first event reached the client: nothing in between to miss it.
    store.applyRemote(PEER_A, page(30), '1')
    const got: string[] = []
    while (got.length < 30) {
      const e = await s.next()
      if (e.event !== 'memory') continue
      expect(e.data.peer).toBe(PEER_A)
      got.push(e.data.label)
    }
    expect(got).toEqual(page(30).map((w) => `peer:${PEER_A}:${w.label}`))
    expect(store.journalStats().copies).toBe(true)

    await s.close()
    // The stream's cancel runs on the server's side of the pipe; give it its turn.
    for (let i = 0; i < 50 && store.journalStats().copies; i++) {
      await Bun.sleep(5)
      store.applyRemote(PEER_A, [], String(i + 2)) // a write applies the mode in force
    }
    expect(store.journalStats().copies).toBe(false)
    const rows = store.journalStats().rows
    store.applyRemote(PEER_A, page(10, 100), 'z')
    expect(store.journalStats().rows).toBe(rows)
  })

  test('two clients: the first leaving does not cut the second off', async () => {
    const store = p.pod.store
    const s1 = await openStream()
    const s2 = await openStream()
    expect((await s1.next()).event).toBe('peers')
    expect((await s2.next()).event).toBe('peers')
    await s1.close()
    await Bun.sleep(20)
    store.applyRemote(PEER_A, page(3), '1')
    const labels: string[] = []
    while (labels.length < 3) {
      const e = await s2.next()
      if (e.event === 'memory') labels.push(e.data.label)
    }
    expect(labels).toHaveLength(3)
    await s2.close()
  })

  test('a hub of 2,000 peers: the stream starts whole, a status change of one peer sends that peer alone, a reconnect starts whole again', async () => {
    const hubPeers = writeHubPeers(p.home, p.pod.id, 2000, { pendingEvery: 1, pausedEvery: 1e9 })
    const s = await openStream()
    const first = await s.next()
    expect(first.event).toBe('peers')
    expect(first.data.peers).toHaveLength(2000)

    const target = hubPeers[1233]!
    expect((await p.api('PATCH', `/peer/peers/${target.id}`, { sync: false })).status).toBe(200)
    const change = await s.next()
    expect(change.event).toBe('peers-changed')
    expect(change.data.peers.map((x: { id: string; status: string }) => [x.id, x.status])).toEqual([[target.id, 'paused']])
    expect(change.data.removed).toEqual([])
    expect(change.data.summary).toBe('0 ready · 1999 handshake-pending · 1 paused')
    // One peer's entry plus the frame's own few fields, where the whole list is ~1,000 times that.
    const entry = JSON.stringify(change.data.peers[0]).length
    expect(change.bytes).toBeLessThan(entry + 200)
    expect(first.bytes).toBeGreaterThan(500 * change.bytes)
    await s.close()

    const again = await openStream()
    const snapshot = await again.next()
    expect(snapshot.event).toBe('peers')
    expect(snapshot.data.peers).toHaveLength(2000)
    expect(snapshot.data.peers.find((x: { id: string }) => x.id === target.id).status).toBe('paused')
    await again.close()
  })

  test('a secret header set or unset over the API reaches an open stream as that peer changed (its header names, never the value)', async () => {
    const [peer] = writeHubPeers(p.home, p.pod.id, 1)
    const s = await openStream()
    expect((await s.next()).event).toBe('peers')
    const path = `/peer/peers/${peer!.id}/headers/CF-Access-Client-Id`
    expect((await p.api('PUT', path, { value: 'abc123.access-secret-value' })).status).toBe(200)
    const set = await s.next()
    expect(set.event).toBe('peers-changed')
    expect(set.data.peers.map((x: { id: string; headers: string[] }) => [x.id, x.headers])).toEqual([[peer!.id, ['CF-Access-Client-Id']]])
    expect(JSON.stringify(set.data)).not.toContain('abc123')
    expect((await p.api('DELETE', path)).status).toBe(200)
    const unset = await s.next()
    expect(unset.data.peers.map((x: { headers: string[] }) => x.headers)).toEqual([[]])
    await s.close()
  })
})
