/**
 * Admin routes for reaching one peer: `peer test` (POST /peer/peers/:id/test, the steps of a
 * pull with the fix for what failed), and its secret request headers (peer-keys/headers/<id>.toml):
 * list (names and masked values only, and the origins they are for), set one, unset one, and
 * name the origins. The value travels in the request body, never a URL, and is never logged or
 * echoed back in full. Headers set without naming origins are for the origins of the peer's
 * configured URLs that may carry them (https, or http to loopback).
 */
import { Hono } from 'hono'
import { validator } from 'hono/validator'
import * as v from 'valibot'
import type { PeerTestReport } from '../api/types'
import { defaultHeaderOrigins, type PeerHeaders } from '../config'
import { parsePodId, peerUrls, type PeerRegistry, shortId } from '../identity'
import { NotFound } from '../lib/errors'
import type { PodId } from '../protocol'
import type { Logger } from '../lib/log'
import { jsonBody } from './validate'

const OriginsSchema = v.pipe(v.array(v.pipe(v.string(), v.maxLength(2048)), 'for must be a list of origins'), v.maxLength(16))
const SetSchema = v.strictObject({ value: v.pipe(v.string('value is required'), v.maxLength(8192)), for: v.optional(OriginsSchema) })
const ForSchema = v.strictObject({ for: OriginsSchema })

export interface PeerHeadersAdminDeps {
  peers: Pick<PeerRegistry, 'get'>
  log: Logger
  /** Per-peer secret request headers (set, list masked, unset). */
  peerHeaders: Pick<PeerHeaders, 'list' | 'set' | 'unset' | 'origins' | 'setOrigins'>
  /** Runs `peer test` against one peer (resolve, connect, TLS, identity, signed round trip, clock). */
  testPeer(peerId: string): Promise<PeerTestReport>
  /** The peer's entry in the overview changed (its header names): live views are told. */
  peerShownChanged?(peerId: string): void
}

export function peerHeadersAdminRoutes(deps: PeerHeadersAdminDeps) {
  const headers = deps.peerHeaders
  const knownPeer = (raw: string | undefined) => {
    const id = parsePodId(raw ?? '')
    if (!deps.peers.get(id)) throw new NotFound(`no peer ${id}; headers are set for a paired peer`)
    return id
  }
  /** The answer of every headers route: names with masked values, and the origins they are for. */
  const view = (id: PodId) => ({ headers: headers.list(id), for: headers.origins(id) })
  /** `:id` as a paired peer's id. */
  const peer = validator('param', (value: Record<string, string>) => ({ id: knownPeer(value.id) }))
  /** The same, and `:name` as given (PeerHeaders checks it is a header it may send). */
  const peerHeader = validator('param', (value: Record<string, string>) => ({ id: knownPeer(value.id), name: value.name ?? '' }))
  return new Hono()
    .post('/peer/peers/:id/test', peer, async (c) => c.json(await deps.testPeer(c.req.valid('param').id)))
    .get('/peer/peers/:id/headers', peer, (c) => c.json(view(c.req.valid('param').id)))
    .put('/peer/peers/:id/headers/:name', peerHeader, jsonBody(SetSchema), (c) => {
      const { id, name } = c.req.valid('param')
      const body = c.req.valid('json')
      headers.set(id, name, body.value, body.for, defaultHeaderOrigins(peerUrls(deps.peers.get(id) ?? { url: '' })))
      deps.peerShownChanged?.(id)
      // The name only: the value is a credential.
      const out = view(id)
      deps.log.info({ op: 'peer_headers', peer: shortId(id), msg: `set ${name}, for ${out.for?.length ? out.for.join(', ') : 'no origin yet'}` })
      return c.json(out)
    })
    .put('/peer/peers/:id/header-origins', peer, jsonBody(ForSchema), (c) => {
      const { id } = c.req.valid('param')
      const origins = headers.setOrigins(id, c.req.valid('json').for)
      deps.log.info({ op: 'peer_headers', peer: shortId(id), msg: `headers now for ${origins.length ? origins.join(', ') : 'no origin'}` })
      return c.json(view(id))
    })
    .delete('/peer/peers/:id/headers/:name', peerHeader, (c) => {
      const { id, name } = c.req.valid('param')
      if (!headers.unset(id, name)) throw new NotFound(`peer ${shortId(id)} has no header ${name.slice(0, 64)}`)
      deps.peerShownChanged?.(id)
      deps.log.info({ op: 'peer_headers', peer: shortId(id), msg: `unset ${name}` })
      return c.json(view(id))
    })
}
