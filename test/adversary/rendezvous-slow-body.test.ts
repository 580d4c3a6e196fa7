/**
 * Slow senders against a rendezvous (contract Part 1c, "Bounds on what one peer or one stranger
 * can hold", which a rendezvous on the open internet needs as much as a pod): a token holder's
 * register body must arrive within 10 s of its headers (408 `body_timeout`, connection closed);
 * strangers (no valid token) trickling bodies are answered and their connections closed, never
 * held; the service keeps answering meanwhile. Under the binary and under Deno.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { runCli, type TestRuntime } from '../helpers/pod-process'
import { rawRequest, within, type RawRequest } from '../helpers/raw-http'
import { startRendezvous, type RendezvousProcess } from './_fixture'

/** Strangers per flood, from one address. */
const STRANGERS = 100
const TRICKLE_EVERY_MS = 2_000
/** Safety net only: the 10 s body deadline plus a loaded machine's slack. */
const CUT_BOUND_MS = 30_000

function trickle(conns: RawRequest[]): () => void {
  const timer = setInterval(() => {
    for (const c of conns) if (!c.socket.destroyed) c.socket.write('a')
  }, TRICKLE_EVERY_MS)
  return () => clearInterval(timer)
}

const registerHead = (token: string) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': '2000' })

for (const runtime of ['binary', 'deno'] as TestRuntime[]) {
  describe(`a rendezvous (${runtime})`, () => {
    let rv: RendezvousProcess
    let token = ''

    beforeAll(async () => {
      rv = await startRendezvous('mzm-rv-slow-', runtime)
      const home = rv.home
      const t = await runCli(['rendezvous', 'token', 'create', 'slow', '--json', '--home', home])
      expect(t.code).toBe(0)
      token = (JSON.parse(t.stdout) as { token: string }).token
    }, 60_000)
    afterAll(async () => {
      await rv?.stop()
    })

    test('a token holder trickling a register body: 408 body_timeout, and the connection closes', async () => {
      const req = await rawRequest(rv.url, 'POST', '/api/peers/register', registerHead(token))
      await req.sendBody(1)
      const stop = trickle([req])
      try {
        expect(await within(req.status, CUT_BOUND_MS, 'no answer')).toBe(408)
        expect(req.received()).toContain('body_timeout')
        expect(await within(req.closed, 5_000, 'still open')).toBeUndefined()
      } finally {
        stop()
        req.close()
      }
    }, 60_000)

    test('strangers trickling bodies are answered and cut, never held; /healthz answers meanwhile', async () => {
      const conns = await Promise.all(
        Array.from({ length: STRANGERS }, (_, i) =>
          rawRequest(
            rv.url,
            i % 2 ? 'POST' : 'DELETE',
            i % 2 ? '/api/peers/register' : `/api/peers/register/${crypto.randomUUID()}`,
            registerHead('not-a-token'),
            {
              from: '127.0.4.1',
            },
          ),
        ),
      )
      await Promise.all(conns.map((c) => c.sendBody(1)))
      const stop = trickle(conns)
      try {
        const health = await fetch(`${rv.url}/healthz`, { signal: AbortSignal.timeout(5_000) })
        expect(health.status).toBe(200)
        const closed = await Promise.all(
          conns.map((c) =>
            within(
              c.closed.then(() => 'closed' as const),
              CUT_BOUND_MS,
              'held',
            ),
          ),
        )
        expect(closed.filter((s) => s !== 'closed')).toEqual([])
        // Each was refused (401 for a token nobody issued, or 429 past the per-address cap), or
        // closed while still sending (its answer lost to the kernel's reset): never served.
        const statuses = await Promise.all(conns.map((c) => within(c.status, 1_000, null)))
        expect(statuses.filter((s) => s !== 401 && s !== 429 && s !== null)).toEqual([])
      } finally {
        stop()
        for (const c of conns) c.close()
      }
    }, 90_000)
  })
}
