/**
 * The thread of a pull's requests where fetch runs on the main thread's event loop (Deno; see
 * off-thread-fetch.ts): each message is one bounded fetch (bounded-fetch.ts), answered with the
 * answer's bytes (moved, not copied) or why it failed. `{ id, abort: true }` cancels one.
 *
 * A /peer/sync request comes as an `exchange` (the pair key's bytes, both pod ids, the request
 * and its time): it is sealed and signed here (sealSyncRequest), and a 200's signature and seal are
 * checked here too (openSyncAnswer), and its bytes decoded as UTF-8 (asText), so the main
 * thread, busy storing the page before, only sends what to ask and gets the page's JSON text or
 * which check failed; it still parses and validates the page itself. Opening here saved the main
 * thread about 1 ms a page (the MAC, and waiting for Web Crypto's decryption); sealing and
 * signing here 0.3 ms more (Deno's node:crypto objects, cold once a page between two stores),
 * and the UTF-8 decoding 0.25 ms.
 */
import { timingSafeEqual } from 'node:crypto'
import { PairKey } from '../protocol/pair-key'
import { asText, openSyncAnswer, type OpenedAnswer, sealSyncRequest } from '../protocol/sync-exchange'
import type { SyncRequestInput } from '../protocol/sync-messages'
import { SIGNATURE_HEADER } from '../protocol/wire'
import { type BoundedAnswer, type BoundedRequest, BoundedFetchError, boundedFetch } from './bounded-fetch'

/** A /peer/sync request to seal, sign and send, and its 200 to open: the pair key's bytes, who asks whom, what and when. */
export interface SyncExchange {
  pairKey: Uint8Array
  callerId: string
  calleeId: string
  request: SyncRequestInput
  nowMs: number
}

/** With `exchange`, the request's body and its two protocol headers are made here (whatever `request` holds of them). */
export type FetchWorkerRequest = { id: number; request: BoundedRequest; exchange?: SyncExchange } | { id: number; abort: true }

interface WorkerScope {
  onmessage: ((e: MessageEvent<FetchWorkerRequest>) => void) | null
  postMessage(message: unknown, transfer?: Transferable[]): void
}

function serveRequests(scope: WorkerScope): void {
  const inFlight = new Map<number, AbortController>()
  // The pull's pair key, made once: its seal keys are derived once and kept with it. Made here
  // from protocol/ alone: identity's importPairKey brings identity's modules, and the thread
  // then started 50 ms later.
  let kept: { bytes: Uint8Array; key: PairKey } | null = null
  const pairKeyOf = (bytes: Uint8Array): PairKey => {
    // A secret: compared in constant time, like every other secret here.
    if (kept === null || kept.bytes.length !== bytes.length || !timingSafeEqual(kept.bytes, bytes)) kept = { bytes, key: PairKey.fromBytes(bytes) }
    return kept.key
  }
  scope.onmessage = ({ data }) => {
    if ('abort' in data) {
      inFlight.get(data.id)?.abort()
      return
    }
    const ctl = new AbortController()
    inFlight.set(data.id, ctl)
    const run = async (): Promise<{ answer: BoundedAnswer; opened?: OpenedAnswer }> => {
      if (!data.exchange) return { answer: await boundedFetch(data.request, { signal: ctl.signal }) }
      const { callerId, calleeId, nowMs } = data.exchange
      const pairKey = pairKeyOf(data.exchange.pairKey)
      const sent = sealSyncRequest({ pairKey, callerId, calleeId, request: data.exchange.request, nowMs })
      // The caller's headers come with lowercase names (peer-client.ts): the protocol's own win.
      const request = { ...data.request, body: sent.body, headers: { ...data.request.headers, ...sent.headers } }
      const answer = await boundedFetch(request, { signal: ctl.signal })
      if (answer.status !== 200) return { answer }
      const opened = await openSyncAnswer({ pairKey, sent, body: answer.body, signature: answer.headers[SIGNATURE_HEADER.toLowerCase()] ?? null })
      return { answer, opened: asText(opened) }
    }
    run()
      .then(({ answer, opened }) => {
        const moved: Transferable[] = [answer.body.buffer]
        if (opened && 'plain' in opened) moved.push(opened.plain.buffer)
        scope.postMessage({ id: data.id, answer, opened }, moved)
      })
      .catch((err) => {
        const failure = err instanceof BoundedFetchError ? err.failure : { phase: 'request', kind: 'failed', detail: String(err) }
        scope.postMessage({ id: data.id, failure })
      })
      .finally(() => inFlight.delete(data.id))
  }
}

const scope = globalThis as unknown as WorkerScope
serveRequests(scope)
// Every module is loaded: the pull may send its requests here from now on (off-thread-fetch.ts).
scope.postMessage({ ready: true })
