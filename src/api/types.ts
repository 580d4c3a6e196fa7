/**
 * Shapes of the local API's peer answers, shared by the layer that computes them (sync) and the
 * one that serves them (http), which may not import each other. It imports only the vocabulary
 * (lib/codes.ts). The CLI's client derives every answer from the app's routes (`hc<AppType>`).
 */
import type { PeerStatus, SyncResultCode } from '../lib/codes'

export type { PeerStatus } from '../lib/codes'

/** One peer as `GET /peer/peers` shows it. */
export interface PeerView {
  id: string
  name: string
  /** As peers.toml has it: "" (none yet), one URL, or a list tried in order. */
  url: string | string[]
  /** The same URLs, always as a list ([] = none yet). */
  urls: string[]
  sync: boolean
  /** Pulled live (a long-poll held open to it), not only on the interval. */
  live: boolean
  scope: string | string[]
  status: PeerStatus
  /**
   * The cause of any state but `ready` and the next step, one line ("they have not added this
   * pod yet: send them your handshake URL"; "removed by peer? …"; "restart the pod to use it");
   * null when ready.
   */
  hint: string | null
  last_sync_at: string | null
  last_error: string | null
  /** Copies held locally under `peer:<id>:`. */
  memories: number
  /** For a rendezvous peer, the URL it last resolved to. */
  resolved_url: string | null
  /** Names of the secret headers sent to it (peer-keys/headers/<id>.toml); never their values. */
  headers?: string[]
}

export interface PeersOverview {
  peers: PeerView[]
  summary: string
  /** peers.toml parse problem, if any (the pod keeps using the last good copy). */
  error: string | null
  /**
   * Pods that tried to pull from us without being a peer (short id, first/last seen, count),
   * most recent first. Display only: the id is what an unauthenticated caller claimed.
   */
  unknown_callers?: UnknownCallerView[]
}

export interface UnknownCallerView {
  id: string
  first_seen: string
  last_seen: string
  count: number
}

/** Outcome of pulling from one peer (`POST /peer/sync-now`). */
export interface SyncResult {
  peer: string
  ok: boolean
  fetched: number
  stored: number
  deleted: number
  /** Copies that broke our rules (label, content size): counted, never stored. */
  dropped: number
  /** Deletes and overwrites held as a mass change, waiting for `peer accept-deletes`. */
  held?: number
  ms: number
  /** Why the pull failed (an ErrorCode), or why it did not happen or stopped (a SkipReason): lib/codes.ts. */
  error?: SyncResultCode
  detail?: string
}

/** One step of `peer test` (resolve, connect, tls, identity, signed, clock). */
export interface PeerTestStep {
  step: string
  /** The URL this step was tried at (absent for resolve). */
  url?: string
  ok: boolean
  detail: string
  /** What to do about a failed (or borderline) step. */
  fix?: string
}

/** `POST /peer/peers/:id/test`: every step tried, in order; ok when a signed round trip worked with clocks in the window. */
export interface PeerTestReport {
  peer: string
  ok: boolean
  steps: PeerTestStep[]
}

/** `event: memory` of GET /events: a memory of ours or a pulled copy, as committed. */
export interface MemoryEvent {
  op: 'insert' | 'update' | 'delete'
  id: string
  /** '' for a deletion whose label is gone. */
  label: string
  /** The peer a copy came from; null for our own. */
  peer: string | null
  encrypted: boolean
  /** Decrypted for the operator's own stream (absent for a deletion). */
  content?: string
  at: string
}

/** `event: skipped`: more changes in one commit than the stream sends (re-list to see them). */
export interface SkippedEvent {
  count: number
}

/**
 * `event: peers-changed`: only what changed since the stream's last `peers` or `peers-changed`
 * frame. Apply it to the list that frame left (replace or add `peers` by id, drop `removed`,
 * re-sort problems first); the summary and error are whole. A stream always starts with a
 * whole `peers` frame, so a client that reconnects is never left with a stale list.
 */
export interface PeersChangedEvent {
  /** Peers added or changed, each whole as in `peers`. */
  peers: PeerView[]
  /** Ids of peers no longer listed. */
  removed: string[]
  summary: string
  error: string | null
  /** Present when the list of unknown callers changed: the whole list. */
  unknown_callers?: UnknownCallerView[]
}

/** Every frame GET /events sends, by its `event:` name. */
export interface EventFrames {
  memory: MemoryEvent
  skipped: SkippedEvent
  /** The whole list: first on every stream, then whenever a client could not be sure of its copy. */
  peers: PeersOverview
  'peers-changed': PeersChangedEvent
  /** The client fell behind: the stream ends, the client reconnects and re-lists. */
  overflow: Record<string, never>
}
export type EventName = keyof EventFrames
