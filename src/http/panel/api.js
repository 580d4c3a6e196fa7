// @ts-check
/**
 * The panel's client of the local API: one typed function per route it uses, answers typed by
 * src/http/answers.ts (derived from the routes themselves). Relative URLs, so a proxy may mount
 * the pod under a prefix; `Authorization: Bearer <admin token>`; every string of every answer
 * made visible (`shown`) in one place, before anything shows it.
 */
/**
 * @import {
 *   AcceptDeletesAnswer, AccessLogAnswer, AddPeerAnswer, AdvertiseAnswer, AddPeerInput, AudienceAnswer, HeadersAnswer, HeldAnswer,
 *   IdentityAnswer, MemoryAnswer, MemoryPage, PatchPeerInput, PeersAnswer, PreviewAnswer, RecallAnswer,
 *   RememberAnswer, RememberInput, RemovePeerAnswer, StatusAnswer, SyncNowAnswer, UpdatedMemoryAnswer, UpdateMemoryInput,
 * } from '../answers.ts'
 */
import { shown } from './shown.js'

/** An answer that was not 2xx; `message` is the server's `{message}` when it sent one. */
export class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message */
  constructor(status, code, message) {
    super(message)
    this.status = status
    this.code = code
  }
}

/** JSON with every string made visible (control, bidi and invisible characters as escapes). @param {string} text */
export function parseShown(text) {
  return JSON.parse(text, (_key, value) => (typeof value === 'string' ? shown(value) : value))
}

/**
 * @param {{ token: () => string | null, onUnauthorized: () => void }} auth
 */
export function createApi(auth) {
  /**
   * @param {string} method
   * @param {string} path relative to the page
   * @param {unknown} [body]
   * @returns {Promise<unknown>} the parsed answer (null for 204)
   */
  async function call(method, path, body) {
    let res
    try {
      res = await fetch(path, {
        method,
        headers: { Authorization: `Bearer ${auth.token()}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
        credentials: 'omit',
      })
    } catch {
      throw new ApiError(0, 'unreachable', 'the pod did not answer; is it still running?')
    }
    if (res.status === 204) return null
    /** @type {{ error?: unknown, message?: unknown } | null} */
    let data = null
    try {
      data = parseShown(await res.text())
    } catch {
      // a non-JSON answer (a proxy's error page): the status line below says what happened
    }
    if (!res.ok) {
      if (res.status === 401) auth.onUnauthorized()
      throw new ApiError(res.status, String(data?.error ?? `http_${res.status}`), String(data?.message ?? `${res.status} ${res.statusText}`))
    }
    return data
  }
  const id = encodeURIComponent

  return {
    /** @returns {Promise<IdentityAnswer>} */
    identity: async () => /** @type {IdentityAnswer} */ (await call('GET', 'peer/identity')),
    /** @returns {Promise<StatusAnswer>} */
    status: async () => /** @type {StatusAnswer} */ (await call('GET', 'status')),
    /** @returns {Promise<AdvertiseAnswer>} */
    advertise: async () => /** @type {AdvertiseAnswer} */ (await call('GET', 'peer/advertise')),
    /** @param {string[]} urls @returns {Promise<AdvertiseAnswer>} */
    setAdvertise: async (urls) => /** @type {AdvertiseAnswer} */ (await call('PUT', 'peer/advertise', { advertise: urls })),
    /** @returns {Promise<PeersAnswer>} */
    peers: async () => /** @type {PeersAnswer} */ (await call('GET', 'peer/peers')),
    /** @param {AddPeerInput} body @returns {Promise<AddPeerAnswer>} */
    addPeer: async (body) => /** @type {AddPeerAnswer} */ (await call('POST', 'peer/add', body)),
    /** @param {string} peer @param {PatchPeerInput} patch @returns {Promise<AddPeerAnswer>} */
    patchPeer: async (peer, patch) => /** @type {AddPeerAnswer} */ (await call('PATCH', `peer/peers/${id(peer)}`, patch)),
    /** @param {string} peer @param {boolean} purge @returns {Promise<RemovePeerAnswer>} */
    removePeer: async (peer, purge) => /** @type {RemovePeerAnswer} */ (await call('DELETE', `peer/peers/${id(peer)}${purge ? '?purge=true' : ''}`)),
    /** @param {string} peer @returns {Promise<AcceptDeletesAnswer>} */
    acceptDeletes: async (peer) => /** @type {AcceptDeletesAnswer} */ (await call('POST', `peer/peers/${id(peer)}/accept-deletes`)),
    /** @param {string} [peer] one peer, or all @returns {Promise<SyncNowAnswer>} */
    syncNow: async (peer) => /** @type {SyncNowAnswer} */ (await call('POST', 'peer/sync-now', peer ? { peer } : {})),
    /** @param {string} peer @param {number} limit @returns {Promise<PreviewAnswer>} */
    preview: async (peer, limit) => /** @type {PreviewAnswer} */ (await call('GET', `peer/peers/${id(peer)}/preview?limit=${limit}`)),
    /** @param {string} peer @param {number} limit @returns {Promise<AccessLogAnswer>} */
    accessLog: async (peer, limit) => /** @type {AccessLogAnswer} */ (await call('GET', `peer/peers/${id(peer)}/log?limit=${limit}`)),
    /** @param {string} peer @returns {Promise<HeadersAnswer>} */
    headers: async (peer) => /** @type {HeadersAnswer} */ (await call('GET', `peer/peers/${id(peer)}/headers`)),
    /** @param {string} peer @param {string} name @param {string} value @returns {Promise<HeadersAnswer>} */
    setHeader: async (peer, name, value) => /** @type {HeadersAnswer} */ (await call('PUT', `peer/peers/${id(peer)}/headers/${id(name)}`, { value })),
    /** @param {string} peer @param {string} name @returns {Promise<HeadersAnswer>} */
    unsetHeader: async (peer, name) => /** @type {HeadersAnswer} */ (await call('DELETE', `peer/peers/${id(peer)}/headers/${id(name)}`)),
    /** @param {string[]} ids memory ids @returns {Promise<AudienceAnswer>} */
    audience: async (ids) => /** @type {AudienceAnswer} */ (await call('POST', 'peer/audience', { ids })),
    /** @param {URLSearchParams} params @returns {Promise<MemoryPage>} */
    memories: async (params) => /** @type {MemoryPage} */ (await call('GET', `memories?${params}`)),
    /** @param {RememberInput} body @returns {Promise<RememberAnswer>} */
    remember: async (body) => /** @type {RememberAnswer} */ (await call('POST', 'memories', body)),
    /** @param {string} memory @param {UpdateMemoryInput} patch @returns {Promise<UpdatedMemoryAnswer>} */
    updateMemory: async (memory, patch) => /** @type {UpdatedMemoryAnswer} */ (await call('PATCH', `memories/${id(memory)}`, patch)),
    /** @param {string} memory */
    forget: async (memory) => {
      await call('DELETE', `memories/${id(memory)}`)
    },
    /** @param {string} memory @returns {Promise<MemoryAnswer>} */
    release: async (memory) => /** @type {MemoryAnswer} */ (await call('POST', `memories/${id(memory)}/release`)),
    /** @param {number} limit @returns {Promise<HeldAnswer>} */
    held: async (limit) => /** @type {HeldAnswer} */ (await call('GET', `memories/held?limit=${limit}`)),
    /** @param {string} q @param {number} k @returns {Promise<RecallAnswer>} */
    recall: async (q, k) => /** @type {RecallAnswer} */ (await call('GET', `recall?${new URLSearchParams({ q, k: String(k) })}`)),
  }
}

/** @typedef {ReturnType<typeof createApi>} Api */
