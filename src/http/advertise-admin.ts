/**
 * Admin routes for what this pod advertises (pod.toml `advertise`): GET the list, PUT a new
 * one. The running pod's handshake URL and rendezvous heartbeat use the new list at once.
 */
import { Hono } from 'hono'
import * as v from 'valibot'
import type { AppDeps } from './deps'
import { readJson } from './validate'

const PutSchema = v.strictObject({
  advertise: v.pipe(v.array(v.pipe(v.string(), v.maxLength(2048, 'a URL is longer than 2048 characters'))), v.maxLength(64)),
})

export function advertiseAdminRoutes(deps: AppDeps) {
  const advertise = deps.advertise
  const app = new Hono()
  if (!advertise) return app
  return app
    .get('/peer/advertise', (c) => c.json({ advertise: advertise.list(), handshake_url: deps.identity.handshakeUrl() }))
    .put('/peer/advertise', async (c) => {
      const body = await readJson(c, PutSchema)
      const next = advertise.set(body.advertise)
      deps.log.info({ op: 'advertise', count: next.length, msg: next.join(' ') || 'advertises nothing' })
      return c.json({ advertise: next, handshake_url: deps.identity.handshakeUrl() })
    })
}
