/**
 * POST /peer/sync on a real in-process pod: nothing big before auth (16 KiB, refused unread or
 * as it streams), and scope limits for what a paired peer sends.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import { openHome, type Identity, type PodId } from '../../src/identity'
import { signRequest, SYNC_RESPONSE_MAX_BYTES } from '../../src/protocol'
import { encodePage, MAX_PAGE_BYTES } from '../../src/http/peer-sync'
import { memoryLogger } from '../../src/lib/log'
import { startPod, type Pod } from '../../src/pod'
import { tempHome } from '../helpers/pod-process'
import { sendPartial } from '../helpers/raw-http'

let a: Pod
let asB: Identity
const homes: string[] = []

beforeAll(async () => {
  const homeA = tempHome()
  const homeB = tempHome()
  homes.push(homeA, homeB)
  a = await startPod({ home: homeA, port: 0, host: '127.0.0.1', log: memoryLogger(), autoSync: false })
  asB = (await openHome(homeB, { log: memoryLogger() })).identity
  a.home.peers.add({ id: asB.podId, key: asB.publicKey, url: '', scope: 'public:*' })
  a.store.remember({ label: 'public:one', content: 'shared' })
  a.store.remember({ label: `public:${'a'.repeat(200)}`, content: 'long label' })
})
afterAll(async () => {
  await a.close()
  for (const h of homes) rmSync(h, { recursive: true, force: true })
})

/** A request signed by B over exactly `body`. */
async function signed(body: string, nowMs = Date.now()) {
  const pairKey = await asB.pairKey(a.home.identity.podId, a.home.identity.publicKey)
  const { authorization } = await signRequest({
    pairKey,
    method: 'POST',
    route: '/peer/sync',
    callerId: asB.podId,
    calleeId: a.home.identity.podId as PodId,
    body,
    nowMs,
  })
  return authorization
}

async function sync(request: Record<string, unknown>) {
  const body = JSON.stringify(request)
  const res = await fetch(`${a.url}/peer/sync`, { method: 'POST', headers: { authorization: await signed(body), 'content-type': 'application/json' }, body })
  return { status: res.status, body: (await res.json()) as { error?: string; message?: string; memories?: { label: string }[] } }
}

/** Well-formed Bearer for a caller that is not a relationship of A. */
const STRANGER = `Bearer mzm1.6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f.${Math.floor(Date.now() / 1000)}.${'A'.repeat(22)}.${'A'.repeat(43)}`

describe('scope limits on what a peer sends', () => {
  test('a scope within the limits is served', async () => {
    const res = await sync({ since: null, scope: Array(16).fill(`public:${'?'.repeat(3)}`), limit: 10 })
    expect(res.status).toBe(200)
    expect(res.body.memories!.map((m) => m.label)).toEqual(['public:one'])
  })

  test('17 globs: 400 naming the limit', async () => {
    const res = await sync({ since: null, scope: Array.from({ length: 17 }, (_, i) => `public:${i}`), limit: 10 })
    expect(res.status).toBe(400)
    expect(res.body.error).toBe('bad_input')
    expect(res.body.message).toContain('has 17 globs (at most 16)')
  })

  test('a glob of 129 characters: 400 naming the limit', async () => {
    const res = await sync({ since: null, scope: ['public:*', 'x'.repeat(129)], limit: 10 })
    expect(res.status).toBe(400)
    expect(res.body.message).toContain('glob 2 is 129 characters long (at most 128)')
    const one = await sync({ since: null, scope: 'y'.repeat(129), limit: 10 })
    expect(one.status).toBe(400)
  })

  test('an empty glob or an empty list: 400', async () => {
    expect((await sync({ since: null, scope: [], limit: 10 })).status).toBe(400)
    expect((await sync({ since: null, scope: [''], limit: 10 })).status).toBe(400)
  })

  test('the row-1 attack scope is answered (linear matcher), with the right rows', async () => {
    const res = await sync({ since: null, scope: ['******************#', `${'*a'.repeat(60)}*`], limit: 10 })
    expect(res.status).toBe(200)
    // (public:one, served before and now out of scope, comes as a tombstone without a label)
    expect(res.body.memories!.filter((m) => m.label).map((m) => m.label)).toEqual([`public:${'a'.repeat(200)}`])
  })
})

describe('nothing big before auth', () => {
  test('a stranger with a 1 MiB body is refused (401) before the body has arrived', async () => {
    for (const chunked of [false, true]) {
      const req = sendPartial({ url: a.url, path: '/peer/sync', headers: { authorization: STRANGER }, declaredBytes: 1024 * 1024, firstBytes: 1024, chunked })
      try {
        expect(await req.status).toBe(401)
      } finally {
        req.close()
      }
    }
  })

  test('a current caller declaring more than 16 KiB: 413 before the body has arrived', async () => {
    const req = sendPartial({ url: a.url, path: '/peer/sync', headers: { authorization: await signed('{}') }, declaredBytes: 16 * 1024 + 1, firstBytes: 1024 })
    try {
      expect(await req.status).toBe(413)
    } finally {
      req.close()
    }
  })

  test('a current caller streaming past 16 KiB (chunked): 413 as soon as the count passes it', async () => {
    const req = sendPartial({ url: a.url, path: '/peer/sync', headers: { authorization: await signed('{}') }, declaredBytes: 1024 * 1024, firstBytes: 20 * 1024, chunked: true })
    try {
      expect(await req.status).toBe(413)
    } finally {
      req.close()
    }
    // The same with fetch, to read the error body.
    const big = JSON.stringify({ since: null, scope: ['public:*'], limit: 10, pad: 'x'.repeat(17 * 1024) })
    const stream = new Blob([big]).stream()
    const res = await fetch(`${a.url}/peer/sync`, { method: 'POST', headers: { authorization: await signed(big), 'content-type': 'application/json' }, body: stream })
    expect(res.status).toBe(413)
    expect(await res.json()).toMatchObject({ error: 'too_large', message: expect.stringContaining('over 16384 bytes') })
  })

  test('a signed request of just under 16 KiB is still read and judged on its MAC', async () => {
    const body = JSON.stringify({ since: null, scope: ['public:*'], limit: 10 }) + ' '.repeat(16 * 1024 - 60)
    expect(body.length).toBeLessThanOrEqual(16 * 1024)
    const res = await fetch(`${a.url}/peer/sync`, { method: 'POST', headers: { authorization: await signed(body), 'content-type': 'application/json' }, body })
    expect(res.status).toBe(200)
  })
})

describe('page size', () => {
  test('a page is at most half of what a puller reads', () => {
    expect(MAX_PAGE_BYTES * 2).toBe(SYNC_RESPONSE_MAX_BYTES)
  })

  test('a page over the byte budget is served with fewer entries, and paging still delivers every one once', () => {
    const labels: string[] = []
    for (let i = 0; i < 20; i++) {
      const label = `public:big-${i}`
      a.store.remember({ label, content: `"\n`.repeat(300) }) // ~1.8 kB once escaped
      labels.push(label)
    }
    const got: string[] = []
    let since: string | null = null
    let pages = 0
    for (;;) {
      const { answer, memories: { length: count } } = encodePage(a.store, a.id, { since, scope: ['public:big-*'], limit: 500 }, 8 * 1024)
      const page = JSON.parse(new TextDecoder().decode(answer)) as { cursor: string; more: boolean; memories: { label?: string }[] }
      expect(page.memories).toHaveLength(count)
      if (count > 1) expect(answer.byteLength).toBeLessThanOrEqual(8 * 1024)
      got.push(...page.memories.flatMap((m) => (m.label ? [m.label] : [])))
      pages++
      if (!page.more) break
      since = page.cursor
    }
    expect(got.sort()).toEqual(labels.sort())
    expect(pages).toBeGreaterThan(4)
  })

  test('one entry bigger than the budget is still served, alone', () => {
    const { answer, memories: { length: count } } = encodePage(a.store, a.id, { since: null, scope: ['public:big-*'], limit: 500 }, 100)
    expect(count).toBe(1)
    expect(JSON.parse(new TextDecoder().decode(answer)).more).toBe(true)
  })
})
