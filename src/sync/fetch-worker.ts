/**
 * The thread of a pull's requests where fetch runs on the main thread's event loop (Deno; see
 * off-thread-fetch.ts): each message is one bounded fetch (bounded-fetch.ts), answered with the
 * answer's bytes (moved, not copied) or why it failed. `{ id, abort: true }` cancels one.
 *
 * A request that comes with `open` (the pair key's bytes, both pod ids and the request's nonce)
 * has a 200's signature and seal checked here too (openSyncAnswer), so the main thread, busy
 * storing the page before, gets the page's JSON bytes or which check failed; it still decodes and
 * validates them itself. Checking here saved the main thread about 1 ms a page: the MAC, and
 * waiting for Web Crypto's decryption.
 */
import { timingSafeEqual } from 'node:crypto'
import { PairKey } from '../protocol/pair-key'
import { openSyncAnswer, type OpenedAnswer } from '../protocol/sync-exchange'
import { SIGNATURE_HEADER } from '../protocol/wire'
import { type BoundedAnswer, type BoundedRequest, BoundedFetchError, boundedFetch } from './bounded-fetch'

/** What opening a 200 needs: the pair key's bytes, who asked whom, and the request's nonce. */
export interface AnswerToOpen {
  pairKey: Uint8Array
  callerId: string
  calleeId: string
  nonce: string
}

export type FetchWorkerRequest = { id: number; request: BoundedRequest; open?: AnswerToOpen } | { id: number; abort: true }

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
  const open = async (answer: BoundedAnswer, o: AnswerToOpen): Promise<OpenedAnswer> => {
    const pairKey = pairKeyOf(o.pairKey)
    return openSyncAnswer({
      pairKey,
      sent: { nonce: o.nonce, keys: pairKey.sealKeys(o.callerId, o.calleeId) },
      body: answer.body,
      signature: answer.headers[SIGNATURE_HEADER.toLowerCase()] ?? null,
    })
  }
  scope.onmessage = ({ data }) => {
    if ('abort' in data) {
      inFlight.get(data.id)?.abort()
      return
    }
    const ctl = new AbortController()
    inFlight.set(data.id, ctl)
    boundedFetch(data.request, { signal: ctl.signal })
      .then(async (answer) => {
        const opened = data.open && answer.status === 200 ? await open(answer, data.open) : undefined
        const moved: Transferable[] = [answer.body.buffer]
        if (opened && 'plain' in opened) moved.push(opened.plain.buffer)
        return scope.postMessage({ id: data.id, answer, opened }, moved)
      })
      .catch((err) => {
        const failure = err instanceof BoundedFetchError ? err.failure : { phase: 'request', kind: 'failed', detail: String(err) }
        scope.postMessage({ id: data.id, failure })
      })
      .finally(() => inFlight.delete(data.id))
  }
}

serveRequests(globalThis as unknown as WorkerScope)
