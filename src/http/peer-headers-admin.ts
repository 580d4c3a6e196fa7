/**
 * Admin routes for reaching one peer: `peer test` (POST /peer/peers/:id/test, the steps of a
 * pull with the fix for what failed), and its secret request headers (peer-keys/headers/<id>.toml):
 * list (names and masked values only), set one, unset one. The value travels in the request body, never a
 * URL, and is never logged or echoed back in full.
 */
import { Hono } from 'hono'
import * as v from 'valibot'
import { NotFound } from '../lib/errors'
import { parsePodId } from '../identity'
import type { AppDeps } from './deps'
import { readJson } from './validate'

const SetSchema = v.strictObject({ value: v.pipe(v.string('value is required'), v.maxLength(8192)) })

export function peerHeadersAdminRoutes(deps: AppDeps) {
  const headers = deps.peerHeaders
  const app = new Hono()
  if (!headers) return app
  const peerOf = (raw: string) => {
    const id = parsePodId(raw)
    if (!deps.peers.get(id)) throw new NotFound(`no peer ${id}; headers are set for a paired peer`)
    return id
  }
  return app
    .post('/peer/peers/:id/test', async (c) => {
      const id = peerOf(c.req.param('id'))
      if (!deps.testPeer) throw new NotFound('peer test is not available in this pod')
      return c.json(await deps.testPeer(id))
    })
    .get('/peer/peers/:id/headers', (c) => c.json({ headers: headers.list(peerOf(c.req.param('id'))) }))
    .put('/peer/peers/:id/headers/:name', async (c) => {
      const id = peerOf(c.req.param('id'))
      const { value } = await readJson(c, SetSchema)
      const list = headers.set(id, c.req.param('name'), value)
      // The name only: the value is a credential.
      deps.log.info({ op: 'peer_headers', peer: id.slice(0, 8), msg: `set ${c.req.param('name')}` })
      return c.json({ headers: list })
    })
    .delete('/peer/peers/:id/headers/:name', (c) => {
      const id = peerOf(c.req.param('id'))
      const name = c.req.param('name')
      if (!headers.unset(id, name)) throw new NotFound(`peer ${id.slice(0, 8)} has no header ${name.slice(0, 64)}`)
      deps.log.info({ op: 'peer_headers', peer: id.slice(0, 8), msg: `unset ${name}` })
      return c.json({ headers: headers.list(id) })
    })
}
