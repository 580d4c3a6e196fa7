/**
 * Local (admin) routes that manage relationships: add, list, set, remove, sync-now, and what
 * sharing looks like: a peer's share preview, its access log, and which peers receive a memory.
 * `GET /peer/identity` needs no token (identityRoute, below): it answers only what the handshake
 * URL carries, which is public by design.
 */
import { Hono } from 'hono'
import { createMiddleware } from 'hono/factory'
import { validator } from 'hono/validator'
import * as v from 'valibot'
import { BadInput, NotFound } from '../lib/errors'
import { scopeLimitProblem } from '../protocol'
import { NEW_PEER_SCOPE, parseHandshakeUrl, parsePodId, PEER_MAX_URLS, ScopeSchema, type Identity, type PeerRegistry, shortId } from '../identity'
import type { PeersOverview, PeerView, SyncResult } from '../api/types'
import type { Logger } from '../lib/log'
import type { Store } from '../store'
import { sharePreview } from '../mcp/share-preview'
import { intString, jsonBody, query } from './validate'
import { MemoryId } from './memories'

/** The scope limits (src/protocol/scope.ts) apply to what the operator configures as to what peers send. */
const Scope = ScopeSchema
const Name = v.pipe(v.string(), v.maxLength(64, 'name is longer than 64 characters'))
const OneUrl = v.pipe(v.string(), v.maxLength(2048, 'url is longer than 2048 characters'))
/** One URL or a list tried in order (each checked with the peer's id by the registry). */
const Url = v.union(
  [OneUrl, v.pipe(v.array(OneUrl), v.maxLength(PEER_MAX_URLS, `at most ${PEER_MAX_URLS} URLs`))],
  'url must be a string or an array of strings',
)

const AddSchema = v.strictObject({
  handshake_url: v.pipe(v.string('handshake_url is required'), v.maxLength(4096)),
  direct_url: v.optional(Url),
  sync: v.optional(v.boolean()),
  scope: v.optional(Scope),
  name: v.optional(Name),
  /** Replace an existing peer of the same id (key included); without it that is 409 peer_exists. */
  replace: v.optional(v.boolean()),
})

const PatchSchema = v.strictObject({
  url: v.optional(Url),
  sync: v.optional(v.boolean()),
  scope: v.optional(Scope),
  name: v.optional(Name),
  live: v.optional(v.boolean()),
})

const RemoveQuery = v.object({ purge: v.optional(v.string()) })

const SyncNowSchema = v.strictObject({ peer: v.optional(v.string()) })

const PreviewQuery = v.object({
  /** Comma-separated globs; default: the scope the peer last asked with, else "*" (the gate alone). */
  scope: v.optional(v.pipe(v.string(), v.maxLength(16 * 130))),
  limit: v.optional(intString(0, 500)),
})
const LogQuery = v.object({
  limit: v.optional(intString(1, 1000)),
  before: v.optional(v.pipe(v.string(), v.regex(/^\d{1,15}$/, 'must be a cursor the pod returned'), v.transform(Number))),
})
const AudienceSchema = v.strictObject({ ids: v.pipe(v.array(MemoryId), v.maxLength(500, 'at most 500 ids')) })

/** `:id` as a pod id (parsePodId's own 400 when it is not one). */
const peerId = validator('param', (value: Record<string, string>) => ({ id: parsePodId(value.id ?? '') }))

export interface PeerAdminDeps {
  identity: Identity
  peers: PeerRegistry
  store: Store
  log: Logger
  /** Peers with status, sync state and copy counts. */
  peersOverview(): PeersOverview
  /** One peer as the overview shows it (null: not a peer), built alone. */
  peerView(id: string): PeerView | null
  /** That peer's status and hint alone, no copies counted (null: not a peer). */
  peerStatusHint(id: string): Pick<PeerView, 'status' | 'hint'> | null
  /** Pull now from one peer or all; resolves with per-peer results. */
  syncNow(peer?: string): Promise<SyncResult[]>
  /** A relationship was added, edited or removed: the sync loop pulls it now or stops a pull that no longer applies. */
  peerChanged(peerId: string): void
  /** Only the peer's entry in the overview changed (held changes accepted): live views are told. */
  peerShownChanged?(peerId: string): void
  /** URL to record for a new peer that came without one (rendezvous when configured, else ""). */
  defaultPeerUrl(peerId: string): string
}

export function peerAdminRoutes(deps: PeerAdminDeps) {
  const { identity, peers } = deps
  const view = (id: string): PeerView => {
    const found = deps.peerView(id)
    if (!found) throw new NotFound(`no peer ${id}`)
    return found
  }

  // An unknown peer is 404 whatever the query says.
  const knownPeer = createMiddleware(async (c, next) => {
    const id = parsePodId(c.req.param('id') ?? '')
    if (!peers.get(id)) throw new NotFound(`no peer ${id}`)
    await next()
  })

  return new Hono()
    .post('/peer/add', jsonBody(AddSchema), async (c) => {
      const body = c.req.valid('json')
      const hs = parseHandshakeUrl(body.handshake_url, identity.podId)
      // No direct URL given: the URLs the peer advertises in its handshake, else the rendezvous.
      const url = body.direct_url ?? hs.urls ?? deps.defaultPeerUrl(hs.podId)
      const existed = peers.get(hs.podId) !== null
      peers.add(
        {
          id: hs.podId,
          key: hs.key,
          name: body.name ?? hs.name ?? '',
          url,
          sync: body.sync ?? true,
          scope: body.scope ?? [...NEW_PEER_SCOPE],
        },
        { replace: body.replace === true },
      )
      deps.peerChanged(hs.podId) // a new peer is pulled now (and then held live), not at the next tick
      deps.log.info({
        op: 'peer_add',
        peer: shortId(hs.podId),
        msg: existed ? 'existing peer (replaced or unchanged)' : url.length === 0 ? 'pending: no URL yet' : undefined,
      })
      return c.json({ peer: view(hs.podId) }, existed ? 200 : 201)
    })
    .get('/peer/peers', (c) => {
      const overview = deps.peersOverview()
      const unknown = overview.unknown_callers ?? []
      return c.json(overview.error ? { ...overview, unknown_callers: unknown } : { peers: overview.peers, summary: overview.summary, unknown_callers: unknown })
    })
    .patch('/peer/peers/:id', peerId, jsonBody(PatchSchema), async (c) => {
      const { id } = c.req.valid('param')
      const patch = c.req.valid('json')
      peers.update(id, patch)
      deps.peerChanged(id)
      deps.log.info({ op: 'peer_set', peer: shortId(id), msg: Object.keys(patch).join(',') })
      return c.json({ peer: view(id) })
    })
    .delete('/peer/peers/:id', peerId, query(RemoveQuery), (c) => {
      const { id } = c.req.valid('param')
      const purge = c.req.valid('query').purge === 'true'
      const existed = peers.remove(id)
      // Stop its pull in flight before purging, so nothing arrives after the purge.
      deps.peerChanged(id)
      const purged = purge ? deps.store.purgePeer(id) : 0
      if (!existed && !purge) throw new NotFound(`no peer ${id}`)
      deps.log.info({ op: 'peer_remove', peer: shortId(id), count: purged })
      return c.json({ removed: existed, purged })
    })
    .post('/peer/peers/:id/accept-deletes', peerId, (c) => {
      const { id } = c.req.valid('param')
      if (!peers.get(id)) throw new NotFound(`no peer ${id}`)
      const deleted = deps.store.acceptDeletes(id)
      deps.peerShownChanged?.(id)
      deps.log.info({ op: 'peer_accept_deletes', peer: shortId(id), count: deleted })
      return c.json({ deleted, peer: view(id) })
    })
    .get('/peer/peers/:id/preview', peerId, knownPeer, query(PreviewQuery), (c) => {
      const { id } = c.req.valid('param')
      const q = c.req.valid('query')
      const asked = q.scope === undefined ? deps.store.servedScope(id) : null
      const scope = q.scope !== undefined ? parseScope(q.scope) : (asked ?? ['*'])
      const scopeSource = q.scope !== undefined ? 'query' : asked ? 'last_request' : 'gate'
      // The feed itself (Store.changesSince, as POST /peer/sync serves it) walked from the start.
      const preview = sharePreview(deps.store, scope, q.limit ?? 50)
      // What the gate would let this peer have that its scope leaves out, per prefix.
      const everything = scope.includes('*') ? preview : sharePreview(deps.store, ['*'], 0)
      const leftOut = leftOutByPrefix(everything.by_prefix, preview.by_prefix)
      return c.json({ peer: id, can_pull: peers.trusted(id) !== null, scope_source: scopeSource, held: deps.store.heldCount(), ...preview, left_out: leftOut })
    })
    .get('/peer/peers/:id/log', peerId, query(LogQuery), (c) => {
      const { id } = c.req.valid('param')
      const q = c.req.valid('query')
      if (!peers.get(id) && deps.store.accessLog(id, { limit: 1 }).entries.length === 0) throw new NotFound(`no peer ${id}`)
      return c.json({ peer: id, ...deps.store.accessLog(id, { limit: q.limit ?? 50, before: q.before ?? null }) })
    })
    .post('/peer/audience', jsonBody(AudienceSchema), async (c) => {
      const { ids } = c.req.valid('json')
      const scopes: Record<string, string[]> = {}
      for (const p of peers.list().peers) {
        if (peers.trusted(p.id)) scopes[p.id] = deps.store.servedScope(p.id) ?? ['*']
      }
      return c.json({ audience: deps.store.audience(ids, scopes) })
    })
    .post('/peer/sync-now', jsonBody(SyncNowSchema, { optional: true }), async (c) => {
      const body = c.req.valid('json')
      const peer = body.peer === undefined ? undefined : parsePodId(body.peer)
      if (peer && !peers.get(peer)) throw new NotFound(`no peer ${peer}`)
      const results = await deps.syncNow(peer)
      // Each result with the peer's state after the pull, as every other surface shows it
      // (awaiting-peer rather than a bare 401; "removed by peer?" rather than unauthorized). One
      // peer asked for: its status and hint alone, not the whole overview, which reads every peer
      // (2,000 on a hub: 15 ms) and counts every copy the pod holds, nor its view, which counts
      // its copies (10 ms after a pull of 100k).
      let viewOf = (id: string): Pick<PeerView, 'status' | 'hint'> | null => deps.peerStatusHint(id)
      if (!peer) {
        const all = new Map(deps.peersOverview().peers.map((p) => [p.id, p]))
        viewOf = (id) => all.get(id) ?? null
      }
      return c.json({
        results: results.map((r) => {
          const view = viewOf(r.peer)
          return { ...r, status: view?.status ?? null, hint: view?.hint ?? null }
        }),
      })
    })
}

/** Per prefix, how many the gate allows that the scope does not take (prefixes with none left out are absent). */
function leftOutByPrefix(gate: Record<string, number>, inScope: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [prefix, n] of Object.entries(gate)) if (n > (inScope[prefix] ?? 0)) out[prefix] = n - (inScope[prefix] ?? 0)
  return out
}

/** `public:*,decision:*` → globs, within the scope limits a peer's request is held to. */
function parseScope(text: string): string[] {
  const globs = text
    .split(',')
    .map((g) => g.trim())
    .filter(Boolean)
  const problem = scopeLimitProblem(globs)
  if (globs.length === 0 || problem) throw new BadInput(`invalid scope: ${problem ?? 'no globs'}`)
  return globs
}

/**
 * `GET /peer/identity`, without a token (contract Part 1c): only what the handshake URL carries
 * (id, name, public key, advertised URLs), so `curl -s http://127.0.0.1:8765/peer/identity | jq -r
 * .handshake_url` works as the product page types it. Nothing here lets anyone in: a handshake
 * URL is public material.
 */
export function identityRoute(deps: { identity: Pick<Identity, 'podId' | 'name' | 'publicKey' | 'handshakeUrl' | 'advertise'> }) {
  const { identity } = deps
  return new Hono().get('/peer/identity', (c) =>
    c.json({
      pod_id: identity.podId,
      name: identity.name,
      key: identity.publicKey,
      handshake_url: identity.handshakeUrl(),
      urls: [...identity.advertise()],
    }),
  )
}
