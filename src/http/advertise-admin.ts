/**
 * Admin routes for what this pod advertises (pod.toml `advertise`): GET the list, PUT a new
 * one. The running pod's handshake URL and rendezvous heartbeat use the new list at once.
 */
import { Hono } from 'hono'
import * as v from 'valibot'
import type { AppDeps } from './deps'
import { notFound } from './errors'
import { jsonBody } from './validate'

const PutSchema = v.strictObject({
  advertise: v.pipe(v.array(v.pipe(v.string(), v.maxLength(2048, 'a URL is longer than 2048 characters'))), v.maxLength(64)),
})

export function advertiseAdminRoutes(deps: AppDeps) {
  // Registered either way, so the app's type (the CLI's client) always has them; a pod wired
  // without `advertise` answers as if they did not exist.
  const advertise = () => deps.advertise!
  return new Hono()
    .use('/peer/advertise', async (c, next) => (deps.advertise ? next() : notFound(c)))
    .get('/peer/advertise', (c) => c.json({ advertise: advertise().list(), handshake_url: deps.identity.handshakeUrl() }))
    .put('/peer/advertise', jsonBody(PutSchema), (c) => {
      const next = advertise().set(c.req.valid('json').advertise)
      deps.log.info({ op: 'advertise', count: next.length, msg: next.join(' ') || 'advertises nothing' })
      return c.json({ advertise: next, handshake_url: deps.identity.handshakeUrl() })
    })
}
