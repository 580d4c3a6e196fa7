/**
 * The SDK Transport under the pod's one MCP server for Streamable HTTP: each HTTP request hands
 * its JSON-RPC message to the server through it and waits for the answer with the same id.
 * Stateless clients pick their own ids, and two of them may send id 1 at once, so a request
 * enters the server under an id of the pod's own and its answer leaves with the client's id again.
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js'
import { ErrorCode, type JSONRPCMessage, type JSONRPCNotification, type JSONRPCRequest, type RequestId } from '@modelcontextprotocol/sdk/types.js'

export class SharedServerTransport implements Transport {
  onmessage?: Transport['onmessage']
  onclose?: () => void
  onerror?: (error: Error) => void
  readonly #waiting = new Map<number, { id: RequestId; answer: (message: JSONRPCMessage) => void }>()
  #lastId = 0
  #closed = false

  async start(): Promise<void> {}

  /** One request from an HTTP caller; resolves with the server's answer under the caller's id. */
  request(message: JSONRPCRequest): Promise<JSONRPCMessage> {
    if (this.#closed) return Promise.resolve(closedAnswer(message.id))
    const id = ++this.#lastId
    return new Promise((answer) => {
      this.#waiting.set(id, { id: message.id, answer })
      this.onmessage?.({ ...message, id })
    })
  }

  notify(message: JSONRPCNotification): void {
    if (!this.#closed) this.onmessage?.(message)
  }

  async send(message: JSONRPCMessage): Promise<void> {
    // Only answers have a caller waiting. Notifications and requests from the server have no
    // place in a JSON answer (the SDK's own transport drops them too in JSON mode).
    if (!('id' in message) || !('result' in message || 'error' in message)) return
    const waiting = this.#waiting.get(message.id as number)
    if (!waiting) return
    this.#waiting.delete(message.id as number)
    waiting.answer({ ...message, id: waiting.id })
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    // The server aborts its handlers on close and answers none of them: their callers are told here.
    for (const { id, answer } of this.#waiting.values()) answer(closedAnswer(id))
    this.#waiting.clear()
    this.onclose?.()
  }
}

const closedAnswer = (id: RequestId): JSONRPCMessage => ({ jsonrpc: '2.0', id, error: { code: ErrorCode.ConnectionClosed, message: 'Connection closed' } })
