/**
 * Slow senders against a real pod (contract Part 1c, "Bounds on what one peer or one stranger can
 * hold"): a request's body must arrive within 10 s of its headers; a request refused before its
 * body is read closes its connection after the answer; per remote address at most 64 requests
 * not yet authenticated. The attacker needs only a peer id (handshake URLs carry them) and a MAC
 * over some other body, or no admin token at all, and trickles a byte every couple of seconds.
 *
 * Shared by the pod as the binary (slow-body.test.ts) and under Deno (slow-body-deno.test.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import type { PodProcess, TestRuntime } from '../helpers/pod-process'
import { buildSyncRequest, pairKey, SEALED_TYPE, signBearer, type KeyPair, type PodTarget } from './_contract'
import { pairedCaller, spawn, stopPods } from './_fixture'
import { openSilent, rawRequest, within, type RawRequest } from '../helpers/raw-http'

/** Slow senders per flood, each from one address (more than the cap). */
const FLOOD = 120
const CAP = 64
/** An immediate answer (a refusal) comes well within this; waiting it out means the pod waited. */
const ANSWER_BOUND_MS = 5_000
/** Safety net only: the 10 s body deadline plus a loaded machine's slack. */
const CUT_BOUND_MS = 30_000
const TRICKLE_EVERY_MS = 2_000

export function slowFloodScenario(runtime: TestRuntime): void {
  let pod: PodProcess
  let self: KeyPair
  let target: PodTarget

  beforeAll(async () => {
    pod = await spawn({ runtime })
    ;({ self, target } = await pairedCaller(pod))
  })
  afterAll(async () => {
    await stopPods([pod])
  })

  /** Writes one body byte to every connection still open, every couple of seconds. */
  function trickle(conns: RawRequest[]): () => void {
    const timer = setInterval(() => {
      for (const c of conns) if (!c.socket.destroyed) c.socket.write('a')
    }, TRICKLE_EVERY_MS)
    return () => clearInterval(timer)
  }

  /** The pod answers /healthz (another address than the flood's) and its admin socket. */
  async function stillAnswers(): Promise<void> {
    const health = await fetch(`${pod.url}/healthz`, { signal: AbortSignal.timeout(ANSWER_BOUND_MS) })
    expect(health.status).toBe(200)
    const status = await fetch('http://pod/status', {
      unix: join(pod.home, 'pod.sock'),
      headers: { authorization: `Bearer ${pod.token()}` },
      signal: AbortSignal.timeout(ANSWER_BOUND_MS),
    })
    expect(status.status).toBe(200)
  }

  describe(`slow senders (${runtime})`, () => {
    test(
      'a peer id with a MAC over another body, trickling /peer/sync bodies: 64 held at most, the rest 429 and closed at once, the 64 cut by the body deadline',
      async () => {
        const key = pairKey(self, target.podId, target.key)
        const conns: RawRequest[] = []
        for (let i = 0; i < FLOOD; i++) {
          const { authorization } = signBearer({ key, caller: self.podId, callee: target.podId, body: randomBytes(32) })
          const headers = { authorization, 'content-type': SEALED_TYPE, 'content-length': '4096' }
          conns.push(await rawRequest(pod.url, 'POST', '/peer/sync', headers, { from: '127.0.0.2' }))
        }
        const stop = trickle(conns)
        try {
          const early = await Promise.all(conns.map((c) => within(c.status, ANSWER_BOUND_MS, 'held' as const)))
          // Refused: 429, or (where the server sees connections, under Deno) closed before any answer.
          const refused = conns.filter((_, i) => early[i] === 429 || early[i] === null)
          expect(refused.length).toBeGreaterThanOrEqual(FLOOD - CAP)
          expect(await within(Promise.all(refused.map((c) => c.closed)), ANSWER_BOUND_MS, 'left open')).not.toBe('left open')
          await stillAnswers()
          // The held ones: cut once their 10 s are up, told why.
          expect(await within(Promise.all(conns.map((c) => c.closed)), CUT_BOUND_MS, 'left open')).not.toBe('left open')
          const held = conns.filter((_, i) => early[i] === 'held')
          for (const c of held) expect(c.received()).toMatch(/^HTTP\/1\.1 408 [\s\S]*"body_timeout"/)
          await stillAnswers()
        } finally {
          stop()
          for (const c of conns) c.close()
        }
      },
      CUT_BOUND_MS + 30_000,
    )

    test("a paired peer's kept-alive connection that authenticated once is served while strangers hold its address's 64 unauthenticated places", async () => {
      const from = '127.0.0.5'
      /** One valid sealed request on the peer's connection; the status of its answer once whole. */
      const ask = async (conn: RawRequest | null): Promise<{ conn: RawRequest; status: number | null }> => {
        const req = buildSyncRequest(self, target, { since: null, scope: ['*'], limit: 10, wait: 0 })
        const headers = { ...req.headers, 'content-length': String(req.body.length) }
        const before = conn?.received().length ?? 0
        if (conn)
          conn.socket.write(
            [`POST /peer/sync HTTP/1.1`, `host: ${new URL(pod.url).host}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n'),
          )
        else conn = await rawRequest(pod.url, 'POST', '/peer/sync', headers, { from })
        conn.socket.write(req.body)
        const answer = async (): Promise<number | null> => {
          for (;;) {
            const text = conn!.received().slice(before)
            const end = text.indexOf('\r\n\r\n')
            const length = Number(/\r\ncontent-length: *(\d+)/i.exec(text)?.[1] ?? Number.NaN)
            if (end >= 0 && text.length >= end + 4 + length) return Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)
            if (conn!.socket.destroyed) return null
            await Bun.sleep(10)
          }
        }
        return { conn, status: await within(answer(), ANSWER_BOUND_MS, null) }
      }
      const first = await ask(null)
      expect(first.status).toBe(200)
      const key = pairKey(self, target.podId, target.key)
      const strangers: RawRequest[] = []
      for (let i = 0; i < CAP + 6; i++) {
        const { authorization } = signBearer({ key, caller: self.podId, callee: target.podId, body: randomBytes(32) })
        strangers.push(await rawRequest(pod.url, 'POST', '/peer/sync', { authorization, 'content-type': SEALED_TYPE, 'content-length': '4096' }, { from }))
      }
      try {
        // The address is at its cap: the last strangers are refused (429, or closed as they come under Deno) …
        const late = await Promise.all(strangers.slice(CAP).map((c) => within(c.status, ANSWER_BOUND_MS, 'held' as const)))
        expect(late.every((s) => s === 429 || s === null)).toBe(true)
        // … and the peer's next request on its connection is answered as before.
        expect((await ask(first.conn)).status).toBe(200)
      } finally {
        first.conn.close()
        for (const c of strangers) c.close()
      }
    }, 30_000)

    test('wrong-token admin requests trickling a 1 MiB body: each 401 and closed at once', async () => {
      const conns: RawRequest[] = []
      for (let i = 0; i < FLOOD; i++) {
        const headers = { authorization: 'Bearer not-the-token', 'content-type': 'application/json', 'content-length': String(1024 * 1024) }
        conns.push(await rawRequest(pod.url, 'POST', '/memories', headers, { from: '127.0.0.3' }))
      }
      const stop = trickle(conns)
      try {
        const statuses = await Promise.all(conns.map((c) => within(c.status, ANSWER_BOUND_MS, 'held' as const)))
        // Some may meet the cap first (429, or closed before any answer): refused either way, and closed.
        expect(statuses.filter((s) => s !== 401 && s !== 429 && s !== null)).toEqual([])
        expect(await within(Promise.all(conns.map((c) => c.closed)), ANSWER_BOUND_MS, 'left open')).not.toBe('left open')
        await stillAnswers()
      } finally {
        stop()
        for (const c of conns) c.close()
      }
    }, 60_000)

    test(
      'connections that never send a request head are closed (a head must come within 10 s)',
      async () => {
        const silent = await Promise.all(Array.from({ length: 20 }, () => openSilent(pod.url, '127.0.0.4')))
        try {
          expect(await within(Promise.all(silent.map((s) => s.closed)), CUT_BOUND_MS, 'left open')).not.toBe('left open')
          await stillAnswers()
        } finally {
          for (const s of silent) s.socket.destroy()
        }
      },
      CUT_BOUND_MS + 10_000,
    )

    test('the pod is still running', () => {
      expect(pod.proc.exitCode).toBeNull()
    })
  })
}
