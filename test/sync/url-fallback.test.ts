/**
 * Several URLs per peer: tried in order, the one that verified tried first next
 * time, each attempt logged, and a short per-attempt connect timeout so a black-holed first
 * URL (a listener that never answers) does not eat the pull budget. Real pods in process on
 * 127.0.0.1; the dead URL is a port nobody listens on, the black hole a server that never answers.
 */
import { expect, test } from 'bun:test'
import { memoryLogger } from '../../src/lib/log'
import type { Pod } from '../../src/pod'
import { disposablePod } from '../helpers/in-process-pod'

const pod = (log = memoryLogger()) => disposablePod({ log, autoSync: false, connectTimeoutMs: 300 })

/** A port that was free a moment ago and that nobody listens on now. */
function deadPort(): number {
  const s = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('') })
  const port = s.port!
  s.stop(true)
  return port
}

/** Accepts connections and requests, never answers: a black hole that TCP alone cannot detect. */
function blackHole(): { url: string } & Disposable {
  const s = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Promise<Response>(() => {}) })
  return { url: `http://127.0.0.1:${s.port}`, [Symbol.dispose]: () => void s.stop(true) }
}

function pairWithUrls(a: Pod, b: Pod, urls: string[]) {
  // b pulls from a through `urls`; a trusts b.
  b.home.peers.add({ id: a.home.identity.podId, key: a.home.identity.publicKey, url: urls })
  a.home.peers.add({ id: b.home.identity.podId, key: b.home.identity.publicKey, url: '' })
}

const attempts = (lines: string[]) => lines.filter((l) => l.includes('op=connect')).map((l) => /path=(\S+)/.exec(l)![1]!)

for (const [name, firstUrl] of [
  ['a port nobody listens on', () => ({ url: `http://127.0.0.1:${deadPort()}`, [Symbol.dispose]() {} })],
  ['a listener that never answers', blackHole],
] as const) {
  test(`first URL ${name}, second works: the pull succeeds, and the one that verified is tried first next time`, async () => {
    await using a = await pod()
    const log = memoryLogger()
    await using b = await pod(log)
    using first = firstUrl()
    const dead = first.url
    pairWithUrls(a, b, [dead, a.url])
    a.store.remember({ label: 'public:fallback', content: 'through the second URL' })

    const [r1] = await b.syncNow()
    expect(r1).toMatchObject({ ok: true, stored: 1 })
    expect(attempts(log.lines)).toEqual([dead, a.url])
    // Warned once that it fell back, naming both URLs.
    const warns = log.lines.filter((l) => l.includes('err=url_fallback'))
    expect(warns).toHaveLength(1)
    expect(warns[0]).toContain('level=warn')
    expect(warns[0]).toContain(dead)

    // Next pull: the verified URL first, so the dead one costs nothing.
    log.lines.length = 0
    a.store.remember({ label: 'public:fallback2', content: 'again' })
    const [r2] = await b.syncNow()
    expect(r2).toMatchObject({ ok: true, stored: 1 })
    expect(attempts(log.lines)).toEqual([a.url])
    expect(log.lines.some((l) => l.includes('err=url_fallback'))).toBe(false)
    // peers.toml keeps the operator's order; only the order of attempts changed.
    const view = (await b.home.peers.get(a.id))!
    expect(view.url).toEqual([dead, a.url])
  }, 30_000)
}

test('every URL failing reports the most telling error with each URL named; the peer is error, not ready', async () => {
  await using a = await pod()
  await using b = await pod()
  const dead = `http://127.0.0.1:${deadPort()}`
  using blackHoled = blackHole()
  const hole = blackHoled.url
  pairWithUrls(a, b, [dead, hole])
  const [r] = await b.syncNow()
  expect(r).toMatchObject({ ok: false })
  expect(['request_failed', 'timeout']).toContain(r!.error!)
  expect(r!.detail).toContain(`tried 2 URLs (${dead}:`)
  expect(r!.detail).toContain(`${hole}: timeout`)
}, 30_000)

test('a peer refusing us at one URL while another is dead is reported as unauthorized (awaiting-peer), not as a transport error', async () => {
  await using a = await pod()
  await using b = await pod()
  const dead = `http://127.0.0.1:${deadPort()}`
  // Only b pasted: a does not know b.
  b.home.peers.add({ id: a.home.identity.podId, key: a.home.identity.publicKey, url: [dead, a.url] })
  const [r] = await b.syncNow()
  expect(r).toMatchObject({ ok: false, error: 'unauthorized' })
}, 30_000)
