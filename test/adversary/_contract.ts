/**
 * The wire contract (shared DESIGN.md Part 1 and 1b), written again from the text alone for the
 * hostile-peer tests: nothing here imports src/. An adversary needs exactly what an honest peer
 * has — its own X25519 key pair, the pair key, Bearer signing, response signing and the sealed
 * body format — so it can act as a caller (signed /peer/sync to a real pod process) and as a
 * served pod (a Bun.serve the real pod pulls from) and then misbehave on purpose.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  randomUUID,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { Server } from 'bun'

export const SYNC_ROUTE = '/peer/sync'
export const SEALED_TYPE = 'application/vnd.mzm.sealed'
const BEARER_RE = /^Bearer mzm1\.([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})\.(\d{1,12})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/

export const b64u = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url')
export const fromB64u = (text: string): Buffer => Buffer.from(text, 'base64url')
export const sha256Hex = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex')
const hmac = (key: Uint8Array, message: string): Buffer => createHmac('sha256', key).update(message).digest()
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)
const hkdf = (ikm: Uint8Array, salt: string, info: string): Buffer => Buffer.from(hkdfSync('sha256', ikm, salt, info, 32))

/** A pod identity of our own: a lowercase UUID v4 and an X25519 key pair. */
export interface KeyPair {
  podId: string
  privateKey: KeyObject
  /** 43-char base64url raw public key. */
  publicKey: string
}

export function newKeyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519')
  const jwk = publicKey.export({ format: 'jwk' }) as { x: string }
  return { podId: randomUUID(), privateKey, publicKey: jwk.x }
}

function publicKeyObject(key43: string): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: key43 }, format: 'jwk' })
}

/** X25519 shared secret of our private key with a peer's 43-char public key. */
export function x25519(privateKey: KeyObject, peerKey43: string): Buffer {
  return diffieHellman({ privateKey, publicKey: publicKeyObject(peerKey43) })
}

/** pair_key = HKDF-SHA256(X25519, salt "mzm-pair-v1", info min(id)|max(id)). */
export function pairKey(self: KeyPair, peerId: string, peerKey43: string): Buffer {
  const [lo, hi] = [self.podId, peerId].sort()
  return hkdf(x25519(self.privateKey, peerKey43), 'mzm-pair-v1', `${lo}|${hi}`)
}

export function handshakeUrl(kp: KeyPair, extra: { name?: string; url?: string } = {}): string {
  let out = `mzm-handshake://${kp.podId}?key=${kp.publicKey}`
  if (extra.name !== undefined) out += `&name=${encodeURIComponent(extra.name)}`
  if (extra.url !== undefined) out += `&url=${encodeURIComponent(extra.url)}`
  return out
}

// ---- Bearer and response signatures --------------------------------------------------------

export interface Bearer {
  caller: string
  ts: number
  nonce: string
  mac: string
}

export function parseBearer(header: string | null | undefined): Bearer | null {
  const m = header ? BEARER_RE.exec(header) : null
  return m ? { caller: m[1]!, ts: Number(m[2]), nonce: m[3]!, mac: m[4]! } : null
}

function requestMessage(method: string, route: string, callee: string, ts: number, nonce: string, body: Uint8Array): string {
  return `mzm1\n${method}\n${route}\n${callee}\n${ts}\n${nonce}\n${sha256Hex(body)}`
}

export function signBearer(o: {
  key: Uint8Array
  caller: string
  callee: string
  body: Uint8Array
  method?: string
  route?: string
  tsS?: number
  nonce?: string
}): { authorization: string; nonce: string } {
  const ts = o.tsS ?? Math.floor(Date.now() / 1000)
  const nonce = o.nonce ?? b64u(randomBytes(16))
  const mac = b64u(hmac(o.key, requestMessage(o.method ?? 'POST', o.route ?? SYNC_ROUTE, o.callee, ts, nonce, o.body)))
  return { authorization: `Bearer mzm1.${o.caller}.${ts}.${nonce}.${mac}`, nonce }
}

export function bearerVerifies(key: Uint8Array, b: Bearer, callee: string, body: Uint8Array, method = 'POST', route = SYNC_ROUTE): boolean {
  const expected = hmac(key, requestMessage(method, route, callee, b.ts, b.nonce, body))
  const given = fromB64u(b.mac)
  return given.length === expected.length && timingSafeEqual(given, expected)
}

export function responseSignature(key: Uint8Array, nonce: string, body: Uint8Array): string {
  return b64u(hmac(key, `mzm1-resp\n${nonce}\n${sha256Hex(body)}`))
}

// ---- Sealed bodies (Part 1b) ---------------------------------------------------------------

export function sealKeys(key: Uint8Array, caller: string, callee: string): { req: Buffer; resp: Buffer } {
  return { req: hkdf(key, 'mzm-seal-v1', `req|${caller}|${callee}`), resp: hkdf(key, 'mzm-seal-v1', `resp|${caller}|${callee}`) }
}

export function seal(key: Uint8Array, aad: string, plaintext: Uint8Array): Uint8Array {
  const iv = randomBytes(12)
  const c = createCipheriv('aes-256-gcm', key, iv)
  c.setAAD(utf8(aad))
  const out = Buffer.concat([iv, c.update(plaintext), c.final(), c.getAuthTag()])
  return new Uint8Array(out)
}

export function unseal(key: Uint8Array, aad: string, sealed: Uint8Array): Uint8Array {
  if (sealed.length < 28) throw new Error('sealed body too short')
  const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12))
  d.setAAD(utf8(aad))
  d.setAuthTag(sealed.subarray(sealed.length - 16))
  return new Uint8Array(Buffer.concat([d.update(sealed.subarray(12, sealed.length - 16)), d.final()]))
}

// ---- Caller: signed /peer/sync against a real pod ------------------------------------------

export interface PodTarget {
  url: string
  podId: string
  /** The pod's 43-char public key. */
  key: string
}

export interface SyncAnswer {
  status: number
  /** `error` of a JSON error answer. */
  error?: string
  message?: string
  /** The opened, signature-checked page of a 200. */
  page?: { pod_id: string; cursor: string; more: boolean; memories: Array<{ id: string; label?: string; content?: string; deleted?: true }> }
  signatureOk?: boolean
  /** A 200's body as received: its length, and its first 12 bytes (the seal's iv) in hex. */
  sealedBytes?: number
  iv?: string
}

/**
 * A signed request body, sealed as Part 1b requires (a pod refuses plain JSON with 415
 * `sealed_required`), ready to send as-is. `sealed: false` sends plain JSON on purpose.
 */
export function buildSyncRequest(self: KeyPair, pod: PodTarget, json: unknown, opts: { sealed?: boolean; tsS?: number } = {}) {
  const key = pairKey(self, pod.podId, pod.key)
  const sealed = opts.sealed ?? true
  const plain = utf8(typeof json === 'string' ? json : JSON.stringify(json))
  // The nonce is part of the seal's AAD and of the Bearer: pick it first.
  const nonce = b64u(randomBytes(16))
  const body = sealed ? seal(sealKeys(key, self.podId, pod.podId).req, `mzm1\n${nonce}`, plain) : plain
  const { authorization } = signBearer({ key, caller: self.podId, callee: pod.podId, body, nonce, tsS: opts.tsS })
  const headers = { authorization, 'content-type': sealed ? SEALED_TYPE : 'application/json' }
  return { key, nonce, body, headers, sealed }
}

/** Sends a prepared request and reads the answer as the contract says a puller must. */
export async function sendSyncRequest(pod: PodTarget, self: KeyPair, req: ReturnType<typeof buildSyncRequest>): Promise<SyncAnswer> {
  const res = await fetch(pod.url.replace(/\/+$/, '') + SYNC_ROUTE, { method: 'POST', headers: req.headers, body: req.body as Uint8Array<ArrayBuffer> })
  const bytes = new Uint8Array(await res.arrayBuffer())
  if (res.status !== 200) {
    let j: { error?: string; message?: string } = {}
    try {
      j = JSON.parse(new TextDecoder().decode(bytes))
    } catch {}
    return { status: res.status, error: j.error, message: j.message }
  }
  const signatureOk = res.headers.get('mzm-signature') === responseSignature(req.key, req.nonce, bytes)
  const plain = req.sealed ? unseal(sealKeys(req.key, self.podId, pod.podId).resp, `mzm1-resp\n${req.nonce}`, bytes) : bytes
  const iv = Buffer.from(bytes.subarray(0, 12)).toString('hex')
  return { status: 200, signatureOk, page: JSON.parse(new TextDecoder().decode(plain)), sealedBytes: bytes.length, iv }
}

/** One signed, sealed /peer/sync call, opened and checked as a puller must. */
export async function syncCall(self: KeyPair, pod: PodTarget, json: unknown): Promise<SyncAnswer> {
  return sendSyncRequest(pod, self, buildSyncRequest(self, pod, json))
}

// ---- Served pod: a Bun.serve the real pod pulls from ---------------------------------------

export interface PullRequestSeen {
  bearer: Bearer
  json: { since: string | null; scope: string[] | string; limit: number; wait?: number }
  sealed: boolean
  /** Wraps a page as a signed (and sealed, if the request was) 200 answer. */
  answer(page: unknown): Response
  /** Signs arbitrary bytes as a 200 answer (no sealing): for malformed answers. */
  answerBytes(bytes: Uint8Array): Response
}

export type PullHandler = (req: PullRequestSeen) => Response | Promise<Response>

export interface ServedPeer {
  self: KeyPair
  url: string
  server: Server<undefined>
  /** Set once the real pod is known (after pairing). */
  pod?: PodTarget
  /** Every pull that arrived with a valid Bearer. */
  pulls: number
  /** Path and query of every request that reached us, valid or not. */
  paths: string[]
  handler: PullHandler
  stop(): Promise<void>
}

/** Starts a served pod on 127.0.0.1:0 that answers verified pulls with `handler`. */
export function servePeer(handler: PullHandler, self = newKeyPair()): ServedPeer {
  const peer: ServedPeer = {
    self,
    url: '',
    server: undefined as unknown as Server<undefined>,
    pulls: 0,
    paths: [],
    handler,
    async stop() {
      await peer.server.stop(true)
    },
  }
  peer.server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    idleTimeout: 0,
    async fetch(req) {
      const { pathname: path, search } = new URL(req.url)
      peer.paths.push(path + search)
      if (path === '/healthz') return Response.json({ ok: true, pod_id: self.podId, version: 'adversary' })
      if (path !== SYNC_ROUTE || req.method !== 'POST' || !peer.pod) return Response.json({ error: 'not_found' }, { status: 404 })
      const pod = peer.pod
      const bearer = parseBearer(req.headers.get('authorization'))
      const body = new Uint8Array(await req.arrayBuffer())
      const key = pairKey(self, pod.podId, pod.key)
      if (!bearer || bearer.caller !== pod.podId || !bearerVerifies(key, bearer, self.podId, body)) {
        return Response.json({ error: 'unauthorized', message: 'bad bearer' }, { status: 401 })
      }
      peer.pulls++
      const sealed = (req.headers.get('content-type') ?? '').startsWith(SEALED_TYPE)
      const keys = sealKeys(key, pod.podId, self.podId)
      const plain = sealed ? unseal(keys.req, `mzm1\n${bearer.nonce}`, body) : body
      const answerBytes = (bytes: Uint8Array) =>
        new Response(bytes as Uint8Array<ArrayBuffer>, {
          headers: { 'content-type': sealed ? SEALED_TYPE : 'application/json', 'mzm-signature': responseSignature(key, bearer.nonce, bytes) },
        })
      return peer.handler({
        bearer,
        sealed,
        json: JSON.parse(new TextDecoder().decode(plain)),
        answerBytes,
        answer(page) {
          const text = utf8(JSON.stringify(page))
          return answerBytes(sealed ? seal(keys.resp, `mzm1-resp\n${bearer.nonce}`, text) : text)
        },
      })
    },
  })
  peer.url = `http://127.0.0.1:${peer.server.port}`
  return peer
}

/** A page in the contract's shape. */
export function page(podId: string, memories: unknown[], opts: { cursor?: string; more?: boolean } = {}) {
  return { pod_id: podId, cursor: opts.cursor ?? 'c1', more: opts.more ?? false, memories }
}

/** A memory entry in the contract's shape. */
export function entry(label: string, content: string, id: string = randomUUID()) {
  const at = new Date().toISOString()
  return { id, label, content, created_at: at, updated_at: at }
}

// ---- Reading a process from the outside ----------------------------------------------------

/** VmHWM (peak RSS) and VmRSS of a process in MB, from /proc. */
export function memoryOf(pid: number): { peakMb: number; rssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0)
  return { peakMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 }
}

// ---- Rendezvous proof of key possession (Part 1b) ------------------------------------------

/** proof = HMAC(HKDF(X25519(pod key, rendezvous key), "mzm-rdv-v1", id|rdvKey), "mzm-rdv1\n" id \n url \n ts). */
export function rendezvousProof(kp: KeyPair, rendezvousKey: string, url: string, tsS: number, peerId = kp.podId): string {
  const k = hkdf(x25519(kp.privateKey, rendezvousKey), 'mzm-rdv-v1', `${peerId}|${rendezvousKey}`)
  return b64u(hmac(k, `mzm-rdv1\n${peerId}\n${url}\n${tsS}`))
}

/** The register body for `kp` (or, with `as`, a body claiming another id signed with kp's key). */
export function registerBody(kp: KeyPair, rendezvousKey: string, url: string, opts: { as?: string; key?: string; tsS?: number } = {}) {
  const ts = opts.tsS ?? Math.floor(Date.now() / 1000)
  const peerId = opts.as ?? kp.podId
  return { peer_id: peerId, url, key: opts.key ?? kp.publicKey, ts, proof: rendezvousProof(kp, rendezvousKey, url, ts, peerId) }
}
