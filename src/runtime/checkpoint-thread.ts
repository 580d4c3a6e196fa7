/**
 * WAL checkpoints on a thread of their own: a worker with its own connection to the database
 * file copies the WAL back into it (`PRAGMA wal_checkpoint(PASSIVE)`: never waits for, nor
 * blocks, the writer) and syncs it, while the main thread goes on writing. The worker's code is
 * a string made into a module here, so a compiled binary needs no file of its own for it; it
 * opens the file with the runtime's own SQLite binding (bun:sqlite under Bun, node:sqlite
 * under Deno).
 */
import { workerCalls } from './worker-calls'

/** What one checkpoint did, as SQLite reports it. */
export interface CheckpointOutcome {
  /** 1 when another checkpoint or a writer kept it from finishing. */
  busy: number
  /** Frames in the WAL, and how many of them are now in the database file. */
  log: number
  checkpointed: number
}

export interface CheckpointThread {
  /** Checkpoints now; settles when it is done (rejects if the thread failed or was closed). */
  checkpoint(): Promise<CheckpointOutcome>
  /** Ends the thread (its connection with it); a checkpoint in flight is cut short, never harmful. */
  close(): void
}

const WORKER_SOURCE = `
let opened = null
async function open(path) {
  if (globalThis.Bun) {
    const { Database } = await import('bun:sqlite')
    const db = new Database(path)
    db.exec('PRAGMA busy_timeout = 5000')
    return { run: () => db.query('PRAGMA wal_checkpoint(PASSIVE)').get(), close: () => db.close() }
  }
  const { DatabaseSync } = await import('node:sqlite')
  const db = new DatabaseSync(path)
  db.exec('PRAGMA busy_timeout = 5000')
  return { run: () => db.prepare('PRAGMA wal_checkpoint(PASSIVE)').get(), close: () => db.close() }
}
self.onmessage = async ({ data }) => {
  if (data.open !== undefined) {
    opened = open(data.open)
    opened.catch(() => {})
    return
  }
  if (data.close) {
    try { (await opened).close() } catch {}
    self.close()
    return
  }
  try {
    const r = (await opened).run()
    self.postMessage({ id: data.id, outcome: { busy: Number(r.busy), log: Number(r.log), checkpointed: Number(r.checkpointed) } })
  } catch (err) {
    self.postMessage({ id: data.id, error: String(err && err.message ? err.message : err) })
  }
}
`

let workerUrl: string | undefined

type Answer = { id: number; outcome: CheckpointOutcome } | { id: number; error: string }

/** A checkpoint thread for the SQLite file at `path` (in WAL mode). */
export function startCheckpointThread(path: string): CheckpointThread {
  // One URL for the process: the worker loads it after this returns, so it is never revoked.
  workerUrl ??= URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'application/javascript' }))
  const worker = new Worker(workerUrl, { type: 'module' })
  const calls = workerCalls(
    worker,
    'checkpoint thread',
    (data: Answer) => ('outcome' in data ? data.outcome : new Error(`checkpoint failed: ${data.error}`)),
    (detail) => new Error(detail),
  )
  let closed = false
  worker.postMessage({ open: path })
  return {
    checkpoint() {
      if (closed) return Promise.reject(new Error('the checkpoint thread is closed'))
      return calls.call({}).answer
    },
    close() {
      if (closed) return
      closed = true
      worker.postMessage({ close: true })
      calls.failAll('the checkpoint thread was closed')
    },
  }
}
