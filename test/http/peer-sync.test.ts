/**
 * POST /peer/sync on a real in-process pod: nothing big before auth (16 KiB, refused unread or
 * as it streams), sealed bodies only, and scope limits for what a paired peer sends.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync, rmSync } from 'node:fs'
import { openHome, type Identity, type PodId } from '../../src/identity'
import { openSyncResponse, sealSyncRequest, signRequest, SYNC_RESPONSE_MAX_BYTES, type SyncRequestInput } from '../../src/protocol'
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

/** A Bearer signed by B over exactly `body` (for bodies that are not a sealed request). */
async function signed(body: string, nowMs = Date.now()) {
  const pairKey = await asB.pairKey(a.home.identity.podId, a.home.identity.publicKey)
  const { authorization } = signRequest({
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

/** One sealed request from B; a 200 is checked and opened as B would, an error read as JSON. */
async function sync(request: Record<string, unknown>) {
  const pairKey = await asB.pairKey(a.home.identity.podId, a.home.identity.publicKey)
  const sent = sealSyncRequest({ pairKey, callerId: asB.podId, calleeId: a.home.identity.podId, request: request as SyncRequestInput, nowMs: Date.now() })
  const res = await fetch(`${a.url}/peer/sync`, { method: 'POST', headers: sent.headers, body: sent.body as Uint8Array<ArrayBuffer> })
  type Answer = { error?: string; message?: string; memories?: { label?: string }[] }
  if (res.status !== 200) return { status: res.status, body: (await res.json()) as Answer }
  const page = openSyncResponse({ pairKey, sent, body: new Uint8Array(await res.arrayBuffer()), signature: res.headers.get('mzm-signature') })
  return { status: res.status, body: page as Answer }
}

const SEALED = 'application/vnd.mzm.sealed'

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
      const req = await sendPartial({
        url: a.url,
        path: '/peer/sync',
        headers: { authorization: STRANGER },
        declaredBytes: 1024 * 1024,
        firstBytes: 1024,
        chunked,
      })
      try {
        expect(await req.status).toBe(401)
      } finally {
        req.close()
      }
    }
  })

  test('a current caller declaring more than 16 KiB: 413 before the body has arrived', async () => {
    const req = await sendPartial({
      url: a.url,
      path: '/peer/sync',
      headers: { authorization: await signed('{}'), 'content-type': SEALED },
      declaredBytes: 16 * 1024 + 1,
      firstBytes: 1024,
    })
    try {
      expect(await req.status).toBe(413)
    } finally {
      req.close()
    }
  })

  test('a current caller streaming past 16 KiB (chunked): 413 as soon as the count passes it', async () => {
    const req = await sendPartial({
      url: a.url,
      path: '/peer/sync',
      headers: { authorization: await signed('{}'), 'content-type': SEALED },
      declaredBytes: 1024 * 1024,
      firstBytes: 20 * 1024,
      chunked: true,
    })
    try {
      expect(await req.status).toBe(413)
    } finally {
      req.close()
    }
    // The same with fetch, to read the error body.
    const big = JSON.stringify({ since: null, scope: ['public:*'], limit: 10, pad: 'x'.repeat(17 * 1024) })
    const stream = new Blob([big]).stream()
    const res = await fetch(`${a.url}/peer/sync`, { method: 'POST', headers: { authorization: await signed(big), 'content-type': SEALED }, body: stream })
    expect(res.status).toBe(413)
    expect(await res.json()).toMatchObject({ error: 'too_large', message: expect.stringContaining('over 16384 bytes') })
  })

  test('Content-Length beside Transfer-Encoding: chunked is counted as it streams, never read as declared', async () => {
    // A declared length alone is read in one call (the framing bounds it); with a chunked body
    // beside it, the declared length bounds nothing, so a reader trusting it would buffer all.
    const req = await sendPartial({
      url: a.url,
      path: '/peer/sync',
      headers: { authorization: await signed('{}'), 'content-type': SEALED, 'content-length': '100' },
      declaredBytes: 1024 * 1024,
      firstBytes: 20 * 1024,
      chunked: true,
    })
    try {
      // The server refuses the ambiguous framing (400) or the count passes 16 KiB (413): either way
      // it answers while the rest of the body has not been sent.
      expect([400, 413]).toContain((await req.status) ?? 0)
    } finally {
      req.close()
    }
  })

  test('a sealed request of just under 16 KiB is still read, judged on its MAC and opened', async () => {
    // 16 globs of 128 characters plus the rest: the largest request the limits allow, sealed.
    const scope = Array.from({ length: 16 }, (_, i) => `public:${String(i).padStart(2, '0')}${'*'.repeat(119)}`)
    const pairKey = await asB.pairKey(a.home.identity.podId, a.home.identity.publicKey)
    const sent = sealSyncRequest({
      pairKey,
      callerId: asB.podId,
      calleeId: a.home.identity.podId,
      request: { since: 'x'.repeat(64), scope, limit: 10, wait: 0 },
      nowMs: Date.now(),
    })
    expect(sent.body.length).toBeLessThanOrEqual(16 * 1024)
    const res = await fetch(`${a.url}/peer/sync`, { method: 'POST', headers: sent.headers, body: sent.body as Uint8Array<ArrayBuffer> })
    // Read, verified and opened: the cursor is then judged by the store (400), not refused as too large.
    expect(res.status).toBe(400)
    expect(((await res.json()) as { message: string }).message).toContain('cursor')
  })
})

describe('sealed bodies only', () => {
  test('a plain JSON body, correctly signed by a current peer: 415 sealed_required, unread', async () => {
    for (const type of ['application/json', '', 'application/vnd.mzm.sealed-not', 'text/plain']) {
      const body = JSON.stringify({ since: null, scope: ['public:*'], limit: 10 })
      const headers: Record<string, string> = { authorization: await signed(body) }
      if (type) headers['content-type'] = type
      const res = await fetch(`${a.url}/peer/sync`, { method: 'POST', headers, body })
      expect(res.status).toBe(415)
      expect(await res.json()).toMatchObject({ error: 'sealed_required', message: expect.stringContaining(SEALED) })
    }
  })

  test('the sealed content type is matched without regard to case or parameters', async () => {
    const pairKey = await asB.pairKey(a.home.identity.podId, a.home.identity.publicKey)
    const sent = sealSyncRequest({ pairKey, callerId: asB.podId, calleeId: a.home.identity.podId, request: { since: null, limit: 1 }, nowMs: Date.now() })
    const res = await fetch(`${a.url}/peer/sync`, {
      method: 'POST',
      headers: { ...sent.headers, 'content-type': 'Application/VND.mzm.sealed; v=1' },
      body: sent.body as Uint8Array<ArrayBuffer>,
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe(SEALED)
  })

  test('a stranger sending plain JSON still gets 401, not 415: nothing is said before the caller is known', async () => {
    const res = await fetch(`${a.url}/peer/sync`, { method: 'POST', headers: { authorization: STRANGER, 'content-type': 'application/json' }, body: '{}' })
    expect(res.status).toBe(401)
  })
})

describe('served outside the app, with the same steps', () => {
  /** Three answers of one kind each, asked with or without a browser's Origin (which the app's CORS route takes). */
  async function answers(extra: Record<string, string>) {
    const pairKey = await asB.pairKey(a.home.identity.podId, a.home.identity.publicKey)
    const ask = async (headers: Record<string, string>, request: SyncRequestInput = { since: null, limit: 1 }) => {
      const sent = sealSyncRequest({ pairKey, callerId: asB.podId, calleeId: a.home.identity.podId, request, nowMs: Date.now() })
      const res = await fetch(`${a.url}/peer/sync`, {
        method: 'POST',
        headers: { ...sent.headers, ...extra, ...headers },
        body: sent.body as Uint8Array<ArrayBuffer>,
      })
      const body = res.status === 200 ? null : await res.json()
      return {
        status: res.status,
        body,
        protocol: res.headers.get('mzm-protocol'),
        connection: res.headers.get('connection'),
        type: res.headers.get('content-type'),
      }
    }
    return {
      served: await ask({}),
      version: await ask({ 'mzm-protocol': '99' }),
      stranger: await ask({ authorization: STRANGER }),
      badInput: await ask({}, { since: null, limit: 1, scope: [] }),
    }
  }

  test('a peer without Origin (served directly) gets the answers the app gives one with it', async () => {
    const direct = await answers({})
    expect(direct.served).toEqual({ status: 200, body: null, protocol: '2', connection: null, type: SEALED })
    expect(direct.version).toMatchObject({ status: 400, body: { error: 'protocol_unsupported', supported: [2] }, protocol: '2', connection: 'close' })
    expect(direct.stranger).toMatchObject({ status: 401, body: { error: 'unauthorized' }, protocol: '2', connection: 'close' })
    expect(direct.badInput).toMatchObject({ status: 400, body: { error: 'bad_input' }, protocol: '2', connection: null })
    expect(await answers({ origin: 'https://dash.example' })).toEqual(direct)
  })

  test("an answered request's nonce is in the journal before its answer arrives", async () => {
    const pairKey = await asB.pairKey(a.home.identity.podId, a.home.identity.publicKey)
    const sent = sealSyncRequest({ pairKey, callerId: asB.podId, calleeId: a.home.identity.podId, request: { since: null, limit: 1 }, nowMs: Date.now() })
    const headers = { ...sent.headers, 'content-length': String(sent.body.length) }
    const res = await a.request('/peer/sync', { method: 'POST', headers, body: sent.body as Uint8Array<ArrayBuffer> })
    expect(res.status).toBe(200)
    expect(readFileSync(a.home.paths.nonces, 'utf8')).toContain(` ${asB.podId} ${sent.nonce}\n`)
  })

  test('a refused request whose MAC verified has its nonce in the journal before the refusal arrives', async () => {
    const body = 'not a sealed request'
    const authorization = await signed(body)
    const nonce = authorization.split('.')[3]!
    const res = await a.request('/peer/sync', { method: 'POST', headers: { authorization, 'content-type': SEALED }, body })
    expect(res.status).toBe(400)
    expect(readFileSync(a.home.paths.nonces, 'utf8')).toContain(` ${asB.podId} ${nonce}\n`)
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
      const {
        answer,
        memories: { length: count },
      } = encodePage(a.store, a.id, { since, scope: ['public:big-*'], limit: 500 }, 8 * 1024)
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
    const {
      answer,
      memories: { length: count },
    } = encodePage(a.store, a.id, { since: null, scope: ['public:big-*'], limit: 500 }, 100)
    expect(count).toBe(1)
    expect(JSON.parse(new TextDecoder().decode(answer)).more).toBe(true)
  })
})
