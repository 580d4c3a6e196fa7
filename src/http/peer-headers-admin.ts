/**
 * Admin routes for reaching one peer: `peer test` (POST /peer/peers/:id/test, the steps of a
 * pull with the fix for what failed), and its secret request headers (peer-keys/headers/<id>.toml):
 * list (names and masked values only), set one, unset one. The value travels in the request body, never a
 * URL, and is never logged or echoed back in full.
 */
import { Hono } from 'hono'
import { validator } from 'hono/validator'
import * as v from 'valibot'
import type { PeerTestReport } from '../api/types'
import type { PeerHeaders } from '../config'
import { parsePodId, type PeerRegistry } from '../identity'
import { NotFound } from '../lib/errors'
import type { Logger } from '../lib/log'
import { jsonBody } from './validate'

const SetSchema = v.strictObject({ value: v.pipe(v.string('value is required'), v.maxLength(8192)) })

export interface PeerHeadersAdminDeps {
  peers: Pick<PeerRegistry, 'get'>
  log: Logger
  /** Per-peer secret request headers (set, list masked, unset). */
  peerHeaders: Pick<PeerHeaders, 'list' | 'set' | 'unset'>
  /** Runs `peer test` against one peer (resolve, connect, TLS, identity, signed round trip, clock). */
  testPeer(peerId: string): Promise<PeerTestReport>
}

export function peerHeadersAdminRoutes(deps: PeerHeadersAdminDeps) {
  const headers = deps.peerHeaders
  const knownPeer = (raw: string | undefined) => {
    const id = parsePodId(raw ?? '')
    if (!deps.peers.get(id)) throw new NotFound(`no peer ${id}; headers are set for a paired peer`)
    return id
  }
  /** `:id` as a paired peer's id. */
  const peer = validator('param', (value: Record<string, string>) => ({ id: knownPeer(value.id) }))
  /** The same, and `:name` as given (PeerHeaders checks it is a header it may send). */
  const peerHeader = validator('param', (value: Record<string, string>) => ({ id: knownPeer(value.id), name: value.name ?? '' }))
  return new Hono()
    .post('/peer/peers/:id/test', peer, async (c) => c.json(await deps.testPeer(c.req.valid('param').id)))
    .get('/peer/peers/:id/headers', peer, (c) => c.json({ headers: headers.list(c.req.valid('param').id) }))
    .put('/peer/peers/:id/headers/:name', peerHeader, jsonBody(SetSchema), (c) => {
      const { id, name } = c.req.valid('param')
      const list = headers.set(id, name, c.req.valid('json').value)
      // The name only: the value is a credential.
      deps.log.info({ op: 'peer_headers', peer: id.slice(0, 8), msg: `set ${name}` })
      return c.json({ headers: list })
    })
    .delete('/peer/peers/:id/headers/:name', peerHeader, (c) => {
      const { id, name } = c.req.valid('param')
      if (!headers.unset(id, name)) throw new NotFound(`peer ${id.slice(0, 8)} has no header ${name.slice(0, 64)}`)
      deps.log.info({ op: 'peer_headers', peer: id.slice(0, 8), msg: `unset ${name}` })
      return c.json({ headers: headers.list(id) })
    })
}
