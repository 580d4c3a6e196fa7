/**
 * Admin routes for reaching one peer: `peer test` (POST /peer/peers/:id/test, the steps of a
 * pull with the fix for what failed), and its secret request headers (peer-keys/headers/<id>.toml):
 * list (names and masked values only), set one, unset one. The value travels in the request body, never a
 * URL, and is never logged or echoed back in full.
 */
import { Hono } from 'hono'
import { createMiddleware } from 'hono/factory'
import { validator } from 'hono/validator'
import * as v from 'valibot'
import { NotFound } from '../lib/errors'
import { parsePodId } from '../identity'
import type { AppDeps } from './deps'
import { notFound } from './errors'
import { jsonBody } from './validate'

const SetSchema = v.strictObject({ value: v.pipe(v.string('value is required'), v.maxLength(8192)) })

export function peerHeadersAdminRoutes(deps: AppDeps) {
  // Registered either way, so the app's type (the CLI's client) always has them; a pod wired
  // without peer headers answers as if they did not exist.
  const headers = () => deps.peerHeaders!
  const knownPeer = (raw: string | undefined) => {
    const id = parsePodId(raw ?? '')
    if (!deps.peers.get(id)) throw new NotFound(`no peer ${id}; headers are set for a paired peer`)
    return id
  }
  /** `:id` as a paired peer's id. */
  const peer = validator('param', (value: Record<string, string>) => ({ id: knownPeer(value.id) }))
  /** The same, and `:name` as given (PeerHeaders checks it is a header it may send). */
  const peerHeader = validator('param', (value: Record<string, string>) => ({ id: knownPeer(value.id), name: value.name ?? '' }))
  const present = createMiddleware(async (c, next) => (deps.peerHeaders ? next() : notFound(c)))
  return new Hono()
    .post('/peer/peers/:id/test', present, peer, async (c) => {
      const { id } = c.req.valid('param')
      if (!deps.testPeer) throw new NotFound('peer test is not available in this pod')
      return c.json(await deps.testPeer(id))
    })
    .get('/peer/peers/:id/headers', present, peer, (c) => c.json({ headers: headers().list(c.req.valid('param').id) }))
    .put('/peer/peers/:id/headers/:name', present, peerHeader, jsonBody(SetSchema), (c) => {
      const { id, name } = c.req.valid('param')
      const list = headers().set(id, name, c.req.valid('json').value)
      // The name only: the value is a credential.
      deps.log.info({ op: 'peer_headers', peer: id.slice(0, 8), msg: `set ${name}` })
      return c.json({ headers: list })
    })
    .delete('/peer/peers/:id/headers/:name', present, peerHeader, (c) => {
      const { id, name } = c.req.valid('param')
      if (!headers().unset(id, name)) throw new NotFound(`peer ${id.slice(0, 8)} has no header ${name.slice(0, 64)}`)
      deps.log.info({ op: 'peer_headers', peer: id.slice(0, 8), msg: `unset ${name}` })
      return c.json({ headers: headers().list(id) })
    })
}
