/**
 * Admin routes for what this pod advertises (pod.toml `advertise`): GET the list, PUT a new
 * one. The running pod's handshake URL and rendezvous heartbeat use the new list at once.
 */
import { Hono } from 'hono'
import * as v from 'valibot'
import type { Identity } from '../identity'
import type { Logger } from '../lib/log'
import { jsonBody } from './validate'

const PutSchema = v.strictObject({
  advertise: v.pipe(v.array(v.pipe(v.string(), v.maxLength(2048, 'a URL is longer than 2048 characters'))), v.maxLength(64)),
})

export interface AdvertiseAdminDeps {
  identity: Pick<Identity, 'handshakeUrl'>
  log: Logger
  /** pod.toml `advertise`: read it, replace it (checked, written atomically, used at once). */
  advertise: { list(): readonly string[]; set(urls: string[]): string[] }
}

export function advertiseAdminRoutes(deps: AdvertiseAdminDeps) {
  return new Hono()
    .get('/peer/advertise', (c) => c.json({ advertise: deps.advertise.list(), handshake_url: deps.identity.handshakeUrl() }))
    .put('/peer/advertise', jsonBody(PutSchema), (c) => {
      const next = deps.advertise.set(c.req.valid('json').advertise)
      deps.log.info({ op: 'advertise', count: next.length, msg: next.join(' ') || 'advertises nothing' })
      return c.json({ advertise: next, handshake_url: deps.identity.handshakeUrl() })
    })
}
