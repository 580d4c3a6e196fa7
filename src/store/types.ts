/**
 * The Store interface: what the rest of the pod may ask of the database. sqlite.ts implements it.
 * Consumers declare the narrow slice they need (e.g. `Pick<Store, 'changesSince'>`).
 */
import type { WireEntry } from '../protocol'

import type { CommitJournalStats, CommitListener, CommitSubscribeOptions } from './commit-journal'
export type { CommitJournalStats, CommitListener, CommitSubscribeOptions, CommittedChange } from './commit-journal'

/** A memory as the local API returns it (content decrypted). */
export interface Memory {
  id: string
  label: string
  content: string
  encrypted: boolean
  created_at: string
  updated_at: string
  /** Pod id of the peer this copy was pulled from; null for our own memories. */
  origin_peer: string | null
  /** Held back from every peer: its content looked like a credential (until released). */
  held: boolean
}

export interface RememberInput {
  label: string
  content: string
  /** Original ISO 8601 times (import keeps them); absent: now. The change feed order is by insertion either way. */
  created_at?: string
  updated_at?: string
}

export interface RememberResult {
  id: string
  label: string
  encrypted: boolean
  /** Held back from every peer: the content looked like a credential. */
  held: boolean
  /** Set when held: what was found and how to release it. */
  warning?: string
}

/** What became of one memory of an import batch. */
export type ImportOutcome =
  | { status: 'imported'; id: string; held: boolean }
  /** Already here (same label and content), or earlier in the batch: skipped. */
  | { status: 'present' }
  | { status: 'failed'; message: string }

/** One served /peer/sync page that carried entries. */
export interface AccessLogEntry {
  at: string
  /** Entries in the page, tombstones included. */
  count: number
  /** Of which tombstones. */
  deleted: number
  first_id: string
  last_id: string
}

export interface RecallHit {
  id: string
  label: string
  content: string
  score: number
  /** Peer id when the hit is a pulled copy. */
  peer: string | null
  /** Stored vault-encrypted (a private memory); the content here is decrypted. */
  encrypted: boolean
}

/** One entry of a /peer/sync page (contract shape, src/protocol). */
export type { WireEntry }

export interface ApplyOptions {
  /** The last page of this pull (default true): changes staged near the mass-change threshold are applied, or held. */
  final?: boolean
}

export interface ApplyResult {
  /** Copies inserted or updated. */
  stored: number
  /** Copies deleted by tombstones (at once, or on the final page when staged). */
  deleted: number
  /** Copies that broke our rules (label, content size, vault ciphertext): not stored. */
  dropped: number
  /** Deletes and overwrites held as a mass change, waiting for acceptDeletes(); 0 when none. */
  held: number
}

export interface ChangePage {
  cursor: string
  more: boolean
  memories: WireEntry[]
}

/** Per-peer sync state; cursors live in the database, never in TOML. */
export interface PeerSyncState {
  peer_id: string
  cursor: string | null
  scope_key: string | null
  last_sync_at: string | null
  last_error: string | null
  consecutive_failures: number
  pulled_total: number
  served_total: number
  /** Label + content bytes of the copies held from this peer (the max_peer_bytes quota). */
  copy_bytes: number
  /** Deletes and overwrites held as a mass change until the operator accepts them; 0 when none. */
  held_deletes: number
}

export interface StoreStats {
  memories: number
  private: number
  public: number
  peer_copies: number
  tombstones: number
  by_peer: Record<string, number>
}

export interface Store {
  /** No credential scan (sync); `held` is the caller's verdict. The pod's write paths use rememberGrouped. */
  remember(input: RememberInput, opts?: { held?: boolean }): RememberResult
  /**
   * remember() for concurrent callers: writes arriving together share one transaction (group
   * commit); each resolves once its transaction has committed.
   */
  rememberGrouped(input: RememberInput): Promise<RememberResult>
  /**
   * Up to IMPORT_BATCH_MAX memories in one transaction, scanned together; what became of each,
   * in order (see import-memories.ts). `dryRun`: only which are already present.
   */
  importMemories(inputs: readonly RememberInput[], opts?: { dryRun?: boolean }): Promise<ImportOutcome[]>
  /**
   * Changes label and/or content of one of our own memories (new seq; a new label re-decides
   * encryption, and leaving the gate reaches peers as a tombstone). null if unknown; copies are read-only.
   */
  update(id: string, patch: { label?: string; content?: string }, opts?: { held?: boolean }): Memory | null
  /** update() with the credential scan of content that is public after the edit (see secret-holds.ts). */
  updateScanned(id: string, patch: { label?: string; content?: string }): Promise<(Memory & { warning?: string }) | null>
  /** Own memories held back from peers (looked like credentials), newest first. */
  listHeld(limit?: number): Memory[]
  /** How many of our memories are held back from peers. */
  heldCount(): number
  /** Releases a held memory: peers receive it from their next pull. null if unknown. */
  release(id: string): Memory | null
  /** Scans memories made public at open and not scanned yet; resolves when done. */
  settleUnscanned(signal?: AbortSignal): Promise<{ scanned: number; held: number }>
  /**
   * Scans, once and in the background, memories that no credential scan has read (written before
   * the scan existed); holds what looks like a credential. Progress in the log. Resolves when done.
   */
  scanBackfill(signal?: AbortSignal): Promise<{ scanned: number; held: number }>
  /**
   * For each id, the peers (of `scopes`: peer id → the scope it asks with) whose pull would
   * receive the memory in full now: the change feed's own per-row decision.
   */
  audience(ids: readonly string[], scopes: Readonly<Record<string, readonly string[]>>): Record<string, string[]>
  get(id: string): Memory | null
  list(opts: { prefix?: string; limit?: number; cursor?: string | null; origin?: string | null }): {
    memories: Memory[]
    cursor: string | null
  }
  /** Deletes (tombstones) a memory; false if there was none. */
  forget(id: string): boolean
  recall(query: string, k?: number): RecallHit[]
  stats(): StoreStats

  // --- federation: serving side ---
  /** Next page of shareable changes after `since`, filtered by the gate and `scope`. */
  changesSince(since: string | null, scope: string[], limit: number): ChangePage

  // --- federation: pulling side ---
  /**
   * Applies one page from `peerId` and stores `cursor` in the same transaction.
   * Upserts keyed by (peerId, origin id) under label `peer:<peerId>:<label>`; tombstones delete.
   */
  applyRemote(peerId: string, entries: WireEntry[], cursor: string, opts?: ApplyOptions): ApplyResult
  /** Applies the deletes and overwrites held for `peerId` (the operator accepted them); returns how many. */
  acceptDeletes(peerId: string): number
  peerState(peerId: string): PeerSyncState
  /** Every peer's sync state, in one read (peers with none are absent: see peerState). */
  peerStates(): ReadonlyMap<string, PeerSyncState>
  /** Records the outcome of a pull attempt (ok: clears error, bumps last_sync_at). */
  recordPull(peerId: string, outcome: { ok: true; at: string } | { ok: false; error: string }): void
  recordServed(peerId: string, count: number): void
  /**
   * A served /peer/sync page: served_total, the access log row (30 days, bounded) and the scope
   * the peer asked with, in one transaction. Pages without entries record nothing.
   */
  recordServedPage(peerId: string, entries: readonly WireEntry[], scope: readonly string[]): void
  /** The access log of one peer, newest first. */
  accessLog(peerId: string, opts?: { limit?: number; before?: number | null }): { entries: AccessLogEntry[]; cursor: string | null }
  /** The scope a peer last asked with (null if it never pulled anything). */
  servedScope(peerId: string): string[] | null
  /**
   * Scope changed since the last pull: drop copies whose origin label no longer matches,
   * remember the new scope, and reset the cursor so newly matching memories are fetched
   * (kept when the new scope only narrows the old one: nothing new can match).
   */
  resetScope(peerId: string, scope: string[]): number
  /** Deletes every local copy pulled from `peerId` (and its sync state). */
  purgePeer(peerId: string): number
  countPeerCopies(peerId: string): number
  /** countPeerCopies for every peer at once (a peer with no copies is absent). */
  copyCounts(): ReadonlyMap<string, number>
  /**
   * Writes full-text rows for up to `limit` pulled copies still waiting for one (applyRemote
   * queues them); returns how many. recall() drains the rest itself before searching.
   */
  indexPending(limit?: number): number
  hasPendingIndex(): boolean
  /**
   * A pull of many pages begins: until the returned function is called (by every pull that
   * began one), WAL checkpoints and FTS5 merges are put off (bulk-writes.ts). Returns its end.
   */
  beginBulk(): () => void
  /** One step of the upkeep the last bulk put off (a few ms); false when none is left. */
  tidyStep(): boolean

  /**
   * Calls `listener` with what each write changed, right after it commits (this connection's
   * writes only). Pulled copies only with `{ copies: true }`: they are journalled only while
   * such a listener exists, for every write that begins after this call. Returns the
   * unsubscribe function.
   */
  onCommit(listener: CommitListener, opts?: CommitSubscribeOptions): () => void
  /** What the commit journal has done (rows journalled, whether copies are journalled now). */
  journalStats(): CommitJournalStats

  /** Moves the WAL into the main file (on shutdown and in tests). */
  checkpoint(): void
  close(): void
}
