/**
 * Bulk mode, while pulls of many pages run: the store's two kinds of upkeep that a page's commit
 * would otherwise pay for at once are moved off the pull's path.
 *
 * - FTS5's automerge: every commit writes the page's rows as a segment of their own, and
 *   automerge then merges a little at each commit. Off, the segments only pile up (FTS5's crisis
 *   merge still bounds them at 16 per level), every copy is searchable at once, and the merge is
 *   done after the last such pull, in steps of a few ms (tidyStep, from the background indexer).
 * - WAL checkpoints: every 1,000 pages of WAL a commit copies the WAL back into pod.db and syncs
 *   it, on the main thread (a sync waits on the disk), and the pages a pull rewrites at every
 *   commit (the ends of its indexes) are copied again each time. In bulk the main connection
 *   never checkpoints: once the WAL holds BULK_WAL_PAGES, a thread of its own does
 *   (runtime/checkpoint-thread.ts) while the pull goes on writing, and once more when the last
 *   pull ends. Should that thread fall behind (or fail), the main thread checkpoints itself past
 *   WAL_HARD_PAGES, so the WAL stays bounded.
 *
 * Measured on a 100k pull between two pods (bench/federation-pull.bench.ts, bench/README.md):
 * until every copy is searchable 1.69 -> 1.37 s with both put off to the pull's end, then 1.31
 * -> 1.22 s with the checkpoints on their thread.
 *
 * automerge is a setting of the FTS5 table, kept in pod.db: a crash in bulk leaves it off, so
 * the store's open puts it back (repairAfterCrash).
 */
import { closeSync, openSync, readSync } from 'node:fs'
import { type CheckpointThread, startCheckpointThread } from '../runtime'
import type { StoreContext } from './_context'

/** SQLite's default wal_autocheckpoint, in pages. */
const WAL_AUTOCHECKPOINT_PAGES = 1000
/**
 * WAL pages (128 MiB of 4 KiB pages) at which the checkpoint thread is asked to copy them back.
 * A 100k pull writes about 68 MiB: at 64 MiB the thread's one checkpoint during it cost that
 * pull 0.08 s of its 1.30 s on two cores shared with the serving pod; at 128 MiB it has none
 * (bench/README.md).
 */
const BULK_WAL_PAGES = 32_768
/** WAL pages (256 MiB) past which the main thread checkpoints itself (the thread fell behind). */
const WAL_HARD_PAGES = 2 * BULK_WAL_PAGES
/** FTS5's default automerge. */
const AUTOMERGE_DEFAULT = 4
/** Leaf pages one merge step may write: a few ms of work, so requests get in between steps. */
const MERGE_STEP_PAGES = 64

export interface BulkWrites {
  /** A pull of many pages begins; returns its end (idempotent). Pulls at once share the mode. */
  begin(): () => void
  /** After each page a pull stored: checkpoints what the WAL holds past its bound, off the main thread. */
  afterPage(): void
  /** One step of the merging put off by bulk mode; false when nothing is left to do. */
  tidyStep(): boolean
  /** Ends the checkpoint thread (the store is closing). */
  close(): void
}

export function createBulkWrites(ctx: StoreContext, path: string): BulkWrites {
  const onDisk = path !== ':memory:'
  let users = 0
  let merge = false
  let thread: CheckpointThread | null = null
  let inFlight: Promise<void> | null = null
  let shm: number | null = null
  let closed = false

  /** Frames in the WAL now: the wal-index header's mxFrame (SQLite's "WAL-index format", byte 16, native order). */
  function walFrames(): number {
    try {
      shm ??= openSync(`${path}-shm`, 'r')
      const buf = Buffer.alloc(4)
      return readSync(shm, buf, 0, 4, 16) === 4 ? buf.readUInt32LE(0) : 0
    } catch {
      return 0
    }
  }

  /** One checkpoint on the thread (one at a time); on the main thread if the thread fails. */
  function checkpointOffThread(): Promise<void> {
    // A store closed meanwhile starts no thread: nothing would end it, and the process would not exit.
    if (closed) return Promise.resolve()
    inFlight ??= (thread ??= startCheckpointThread(path))
      .checkpoint()
      .then(
        () => undefined,
        () => {
          if (!closed) ctx.db.exec('PRAGMA wal_checkpoint(PASSIVE)')
        },
      )
      .finally(() => {
        inFlight = null
      })
    return inFlight
  }

  function end(): void {
    if (--users > 0) return
    setAutomerge(ctx, AUTOMERGE_DEFAULT)
    merge = true
    const asUsual = () => ctx.db.exec(`PRAGMA wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`)
    // A short pull left little: the connection's next commit checkpoints it, as usual.
    if (!onDisk || (thread === null && walFrames() < WAL_AUTOCHECKPOINT_PAGES)) {
      closeThread() // the wal-index's file handle
      return asUsual()
    }
    // What the pull left in the WAL goes back off the main thread too; then the connection
    // checkpoints as usual again, and the thread ends unless another bulk began meanwhile.
    void (inFlight ?? Promise.resolve()).then(checkpointOffThread).then(() => {
      if (users > 0 || closed) return
      asUsual()
      closeThread()
    })
  }

  function closeThread(): void {
    thread?.close()
    thread = null
    if (shm !== null) closeSync(shm)
    shm = null
  }

  return {
    begin() {
      if (users++ === 0) {
        ctx.db.exec('PRAGMA wal_autocheckpoint = 0')
        setAutomerge(ctx, 0)
      }
      let ended = false
      return () => {
        if (ended) return
        ended = true
        end()
      }
    },
    afterPage() {
      if (users === 0 || !onDisk) return
      const frames = walFrames()
      if (frames >= WAL_HARD_PAGES) ctx.db.exec('PRAGMA wal_checkpoint(PASSIVE)')
      else if (frames >= BULK_WAL_PAGES) void checkpointOffThread()
    },
    tidyStep() {
      // A new bulk began meanwhile: its own end leaves the merging again.
      if (users > 0 || !merge) return false
      // FTS5 tells whether a merge step found work only through the count of changes.
      const changes = () => (ctx.db.query('SELECT total_changes() AS n').get() as { n: number }).n
      const before = changes()
      ctx.write(() => ctx.db.query(`INSERT INTO memories_fts (memories_fts, rank) VALUES ('merge', ${MERGE_STEP_PAGES})`).run(), { durable: false })
      if (changes() - before < 2) merge = false
      return true
    },
    close() {
      closed = true
      closeThread()
    },
  }
}

/** A crash in bulk mode left FTS5's automerge off in pod.db: put it back. */
export function repairAfterCrash(ctx: StoreContext): void {
  const row = ctx.db.query("SELECT v FROM memories_fts_config WHERE k = 'automerge'").get() as { v: number } | null
  if (row?.v === 0) setAutomerge(ctx, AUTOMERGE_DEFAULT)
}

/** FTS5's automerge for memories_fts (0: off), kept in pod.db. */
function setAutomerge(ctx: StoreContext, n: number): void {
  ctx.write(() => ctx.db.query(`INSERT INTO memories_fts (memories_fts, rank) VALUES ('automerge', ${n})`).run(), { durable: false })
}
