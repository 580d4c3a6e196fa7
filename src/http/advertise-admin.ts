/**
 * Admin routes for what this pod advertises (pod.toml `advertise`): GET the list (with a
 * warning and the first suggestion when the handshake carries no address), PUT a new one, and
 * GET suggestions for the address the pod really listens on. The running pod's handshake URL
 * and rendezvous heartbeat use a new list at once.
 */
import { Hono } from 'hono'
import * as v from 'valibot'
import type { Suggestion } from '../config'
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
  advertise: {
    list(): readonly string[]
    set(urls: string[]): string[]
    /** Where the pod listens (the running pod's own port) and URLs it could advertise, best first. */
    suggest?(): { listen: string; suggestions: Suggestion[]; warning: string | null }
  }
}

export function advertiseAdminRoutes(deps: AdvertiseAdminDeps) {
  const current = () => {
    const suggested = deps.advertise.suggest?.() ?? null
    return {
      advertise: [...deps.advertise.list()],
      handshake_url: deps.identity.handshakeUrl(),
      // The handshake carries no address: what to do, with the first suggestion.
      warning: suggested?.warning ?? null,
      suggestion: suggested?.suggestions[0] ?? null,
    }
  }
  return new Hono()
    .get('/peer/advertise', (c) => c.json(current()))
    .get('/peer/advertise/suggest', (c) => {
      const suggested = deps.advertise.suggest?.() ?? { listen: '', suggestions: [], warning: null }
      return c.json({ listen: suggested.listen, advertise: [...deps.advertise.list()], suggestions: suggested.suggestions, warning: suggested.warning })
    })
    .put('/peer/advertise', jsonBody(PutSchema), (c) => {
      const next = deps.advertise.set(c.req.valid('json').advertise)
      deps.log.info({ op: 'advertise', count: next.length, msg: next.join(' ') || 'advertises nothing' })
      return c.json(current())
    })
}
