/**
 * Every answer of the local API, named once and derived from the routes themselves (`hc<AppType>`),
 * so a route that changes its answer changes these types with it. The CLI, the panel (through
 * JSDoc imports in its browser modules) and the tests read answers as these types; none restates
 * a shape by hand. Types only: nothing here runs.
 */
import type { ClientResponse, hc, InferRequestType } from 'hono/client'
import type { SuccessStatusCode } from 'hono/utils/http-status'
import type { AppType } from './app'

export type { EventFrames, EventName, MemoryEvent, PeersChangedEvent, SkippedEvent } from '../api/types'

/** The pod's local API as a typed client. */
export type PodApi = ReturnType<typeof hc<AppType>>

/** The success body of a typed call (its 2xx answers). */
export type Answer<R> = R extends ClientResponse<infer T, infer S, 'json'> ? (S extends SuccessStatusCode ? T : never) : never

/** The 2xx body of one route's typed call, e.g. `Of<PodApi['peer']['peers']['$get']>`. */
type Of<F extends (...args: never[]) => unknown> = Answer<Awaited<ReturnType<F>>>

type Peers = PodApi['peer']['peers']
type OnePeer = Peers[':id']

/** `GET /peer/identity` */
export type IdentityAnswer = Of<PodApi['peer']['identity']['$get']>
/** `GET /status` */
export type StatusAnswer = Of<PodApi['status']['$get']>
/** `GET /peer/peers` */
export type PeersAnswer = Of<Peers['$get']>
/** One peer as every peer route shows it. */
export type PeerAnswer = PeersAnswer['peers'][number]
/** `POST /peer/add`, `PATCH /peer/peers/:id` */
export type AddPeerAnswer = Of<PodApi['peer']['add']['$post']>
/** `DELETE /peer/peers/:id` */
export type RemovePeerAnswer = Of<OnePeer['$delete']>
/** `POST /peer/peers/:id/accept-deletes` */
export type AcceptDeletesAnswer = Of<OnePeer['accept-deletes']['$post']>
/** `POST /peer/sync-now` */
export type SyncNowAnswer = Of<PodApi['peer']['sync-now']['$post']>
/** `GET /peer/peers/:id/preview` */
export type PreviewAnswer = Of<OnePeer['preview']['$get']>
/** `GET /peer/peers/:id/log` */
export type AccessLogAnswer = Of<OnePeer['log']['$get']>
/** `GET|PUT|DELETE /peer/peers/:id/headers…` */
export type HeadersAnswer = Of<OnePeer['headers']['$get']>
/** `POST /peer/audience` */
export type AudienceAnswer = Of<PodApi['peer']['audience']['$post']>
/** `GET /peer/advertise` */
export type AdvertiseAnswer = Of<PodApi['peer']['advertise']['$get']>
/** `GET /memories` */
export type MemoryPage = Of<PodApi['memories']['$get']>
/** One memory of a page, `GET /memories/:id`, `PATCH /memories/:id`, `POST /memories/:id/release`. */
export type MemoryAnswer = Of<PodApi['memories'][':id']['$get']>
/** `POST /memories` */
export type RememberAnswer = Of<PodApi['memories']['$post']>
/** `GET /memories/held` */
export type HeldAnswer = Of<PodApi['memories']['held']['$get']>
/** `GET /recall` */
export type RecallAnswer = Of<PodApi['recall']['$get']>

/** Request bodies, from the routes' validators. */
export type AddPeerInput = InferRequestType<PodApi['peer']['add']['$post']>['json']
export type PatchPeerInput = InferRequestType<OnePeer['$patch']>['json']
export type RememberInput = InferRequestType<PodApi['memories']['$post']>['json']
export type UpdateMemoryInput = InferRequestType<PodApi['memories'][':id']['$patch']>['json']
/** `PATCH /memories/:id` (with `warning` when the new content is held back) */
export type UpdatedMemoryAnswer = Of<PodApi['memories'][':id']['$patch']>
