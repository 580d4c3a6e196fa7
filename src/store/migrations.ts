/**
 * Schema migrations, applied in order by PRAGMA user_version (src/store/database.ts). Kept as
 * TypeScript strings rather than .sql files so `bun build --compile` embeds them in the binary.
 * Never edit a shipped entry: append a new one.
 */
/**
 * Versions whose migration rewrites existing rows (an UPDATE over them), not only adding tables,
 * columns or indexes. Before one of them runs on an existing pod.db, a copy of the file as it was
 * is kept beside it (database.ts). A new entry that rewrites rows adds its version here.
 */
export const REWRITES_DATA: ReadonlySet<number> = new Set([4, 5])

export const MIGRATIONS: readonly string[] = [
  // v1: memories, their full-text index, the change sequence and per-peer sync state.
  `
  CREATE TABLE memories (
    pk          INTEGER PRIMARY KEY,           -- also the rowid of memories_fts
    id          TEXT    NOT NULL UNIQUE,       -- UUID v7, local (copies get their own)
    label       TEXT    NOT NULL,              -- '' for tombstones
    content     TEXT    NOT NULL,              -- plaintext, 'AES:'+base64 (private) or '' (tombstone)
    encrypted   INTEGER NOT NULL DEFAULT 0 CHECK (encrypted IN (0, 1)),
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    seq         INTEGER NOT NULL UNIQUE,       -- change sequence, bumped on every write
    deleted     INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    shared      INTEGER NOT NULL DEFAULT 0 CHECK (shared IN (0, 1)),  -- ever gate-eligible
    origin_peer TEXT,                          -- pod id a copy was pulled from; NULL = ours
    origin_id   TEXT,                          -- the memory id at its origin
    UNIQUE (origin_peer, origin_id)            -- upsert key for copies; also the origin_peer index
  ) STRICT;

  -- The serving feed scans only rows that were ever shared, in change order.
  CREATE INDEX memories_shared_seq ON memories (seq) WHERE shared = 1;
  -- list({ origin }) newest first without visiting tombstones; covers stats() and per-peer counts.
  CREATE INDEX memories_origin ON memories (origin_peer, deleted, seq, encrypted);
  -- list({ prefix }): a range over labels that also covers the filter and the seq to sort by.
  CREATE INDEX memories_label ON memories (label, deleted, origin_peer, seq);

  -- Contentless: the index stores tokens only, never a copy of the text. For private memories
  -- the body holds blind tokens (keyed hashes), so no plaintext reaches these shadow tables.
  CREATE VIRTUAL TABLE memories_fts USING fts5 (
    label, body,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
  );

  -- A hard delete always takes its index row with it, whoever deletes.
  CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories BEGIN
    DELETE FROM memories_fts WHERE rowid = old.pk;
  END;

  -- One-row counter: seq never goes back, even when the newest row is hard-deleted.
  CREATE TABLE change_seq (
    one   INTEGER PRIMARY KEY CHECK (one = 1),
    value INTEGER NOT NULL
  ) STRICT;
  INSERT INTO change_seq (one, value) VALUES (1, 0);

  CREATE TABLE peer_state (
    peer_id              TEXT    NOT NULL PRIMARY KEY,
    cursor               TEXT,
    scope_key            TEXT,
    last_sync_at         TEXT,
    last_error           TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    pulled_total         INTEGER NOT NULL DEFAULT 0,
    served_total         INTEGER NOT NULL DEFAULT 0
  ) STRICT;

  -- Small settings the store must remember between opens (e.g. the public prefixes last used).
  CREATE TABLE meta (
    key   TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
  ) STRICT;
  `,

  // v2: separate partial indexes for own rows and copies. A pulled page then only appends to
  // its peer's index range instead of inserting into a label index in random order (about a
  // third of a copy's write cost), and own rows keep a label index of their own. The constant
  // trailing columns (always NULL / 0 under each WHERE) let SQLite use them as covering.
  `
  DROP INDEX memories_origin;
  DROP INDEX memories_label;
  -- Own rows: list({ origin: 'local' }) newest first, stats() (covering).
  CREATE INDEX memories_own ON memories (deleted, seq, encrypted, origin_peer) WHERE origin_peer IS NULL;
  -- Own rows: list({ prefix }) as a label range, sorted by seq inside the index.
  CREATE INDEX memories_own_label ON memories (label, seq, deleted, origin_peer) WHERE origin_peer IS NULL AND deleted = 0;
  -- Copies: list({ origin: peer, prefix }), counts, scope resets and purges (covering).
  CREATE INDEX memories_copies ON memories (origin_peer, seq, label) WHERE origin_peer IS NOT NULL;
  `,

  // v3: copies whose full-text row is not written yet. A pulled page only appends its copies
  // here (the full-text row is three quarters of a copy's write cost); copy-index.ts drains the
  // queue in the background, and recall drains what is left before it searches.
  `
  CREATE TABLE fts_pending (pk INTEGER PRIMARY KEY) STRICT;
  CREATE TRIGGER memories_fts_pending_delete AFTER DELETE ON memories BEGIN
    DELETE FROM fts_pending WHERE pk = old.pk;
  END;
  `,

  // v4: what a peer may cost us. copy_bytes (label + content bytes of its copies) is kept in
  // step by remote-copies.ts so the max_peer_bytes quota needs no scan per page. Tombstones
  // that would delete a copy wait in pending_deletes until the pull ends: only then is it known
  // whether they delete more than half of the peer's copies (held_deletes > 0: held until the
  // operator accepts).
  `
  ALTER TABLE peer_state ADD COLUMN copy_bytes INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE peer_state ADD COLUMN held_deletes INTEGER NOT NULL DEFAULT 0;
  UPDATE peer_state SET copy_bytes = (
    SELECT coalesce(sum(length(CAST(label AS BLOB)) + length(CAST(content AS BLOB))), 0)
    FROM memories WHERE origin_peer = peer_state.peer_id
  );
  CREATE TABLE pending_deletes (
    peer_id   TEXT NOT NULL,
    origin_id TEXT NOT NULL,
    PRIMARY KEY (peer_id, origin_id)
  ) STRICT, WITHOUT ROWID;
  `,

  // v5: the feed position of a shared row, apart from seq (which orders list() and moves on every
  // write). It moves only when what a peer would receive changes: the row is served anew, or it
  // left the gate (its tombstone). Edits of a once-shared memory that is private now keep its
  // position, so peers past its tombstone learn nothing more about it.
  // Existing cursors stay valid: feed_seq starts as seq.
  `
  ALTER TABLE memories ADD COLUMN feed_seq INTEGER;
  UPDATE memories SET feed_seq = seq WHERE shared = 1;
  DROP INDEX memories_shared_seq;
  CREATE UNIQUE INDEX memories_feed ON memories (feed_seq) WHERE shared = 1;
  `,

  // v6: the secret hold. held = 1: the content looked like a credential when it was written
  // (secret-scan.ts), so the gate serves it to no peer until the operator releases it; held = 2:
  // made public at open (a prefix added) and not scanned yet, held until the scan settles it.
  // Memories written before this version are not re-scanned.
  `
  ALTER TABLE memories ADD COLUMN held INTEGER NOT NULL DEFAULT 0 CHECK (held IN (0, 1, 2));
  CREATE INDEX memories_held ON memories (held) WHERE held != 0;
  `,

  // v7: the access log (access-log.ts): one row per served /peer/sync page that carried entries,
  // kept 30 days and at most 100,000 rows. Times are unix milliseconds, so pruning is a range.
  // peer_state.served_scope: the scope the peer last asked with (JSON array), for the share preview.
  `
  CREATE TABLE access_log (
    pk       INTEGER PRIMARY KEY,
    at_ms    INTEGER NOT NULL,
    peer_id  TEXT    NOT NULL,
    count    INTEGER NOT NULL,
    deleted  INTEGER NOT NULL,
    first_id TEXT    NOT NULL,
    last_id  TEXT    NOT NULL
  ) STRICT;
  CREATE INDEX access_log_peer ON access_log (peer_id, pk);
  CREATE INDEX access_log_at ON access_log (at_ms);
  ALTER TABLE peer_state ADD COLUMN served_scope TEXT;
  `,

  // v8: the max_peer_bytes quota counts a fixed overhead per copy (COPY_ROW_OVERHEAD_BYTES in
  // remote-copies.ts, 256 bytes) on top of label + content: tiny copies cost rows, not text.
  `
  UPDATE peer_state SET copy_bytes = copy_bytes + 256 * (SELECT count(*) FROM memories WHERE origin_peer = peer_state.peer_id);
  `,

  // v9: the access log's cap is per peer (access-log.ts): logged_pages counts a peer's logged
  // pages, so its own oldest rows are pruned on every 256th of them.
  `
  ALTER TABLE peer_state ADD COLUMN logged_pages INTEGER NOT NULL DEFAULT 0;
  `,

  // v10: scanned = 1 once the credential scan has read a memory's label and content. Memories
  // written before the scan existed, or before it read labels, have 0: scan-backfill.ts scans
  // them once in the background. Held ones already have a verdict.
  `
  ALTER TABLE memories ADD COLUMN scanned INTEGER NOT NULL DEFAULT 0 CHECK (scanned IN (0, 1));
  UPDATE memories SET scanned = 1 WHERE held = 1;
  CREATE INDEX memories_unscanned ON memories (pk) WHERE scanned = 0 AND held = 0 AND origin_peer IS NULL AND deleted = 0 AND encrypted = 0;
  `,

  // v11: the mass-change guard over a rolling 24 h window (mass-change.ts). peer_changes: each copy
  // a peer deleted or overwrote, when it last did (so a copy edited ten times counts once), kept
  // 24 h. pending_deletes also holds staged overwrites: a NULL label is a delete, else the version
  // waiting to be applied.
  `
  CREATE TABLE peer_changes (
    peer_id   TEXT    NOT NULL,
    origin_id TEXT    NOT NULL,
    at_ms     INTEGER NOT NULL,
    deleted   INTEGER NOT NULL CHECK (deleted IN (0, 1)),
    PRIMARY KEY (peer_id, origin_id)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX peer_changes_at ON peer_changes (peer_id, at_ms);
  ALTER TABLE pending_deletes ADD COLUMN label TEXT;
  ALTER TABLE pending_deletes ADD COLUMN content TEXT;
  ALTER TABLE pending_deletes ADD COLUMN created_at TEXT;
  ALTER TABLE pending_deletes ADD COLUMN updated_at TEXT;
  `,

  // v12: the access log is appended to, never inserted into the middle of an index (access-log.ts):
  // a hub answering 2,000 peers put each peer's new row on that peer's own page of the index
  // (peer_id, pk), so every served page cost a page write. Each row now links to the same peer's
  // previous one (prev_pk; peer_state.last_log_pk is the newest) and is the peer_seq-th of that
  // peer; only every 256th row of a peer is indexed (the anchor the per-peer cap prunes from).
  // Existing rows are linked here (bookkeeping, not data: no copy of pod.db is kept for it).
  `
  ALTER TABLE access_log ADD COLUMN prev_pk INTEGER;
  ALTER TABLE access_log ADD COLUMN peer_seq INTEGER;
  ALTER TABLE peer_state ADD COLUMN last_log_pk INTEGER;
  UPDATE access_log SET prev_pk = linked.prev, peer_seq = linked.seq
    FROM (SELECT pk, lag(pk) OVER by_peer AS prev, row_number() OVER by_peer AS seq FROM access_log
          WINDOW by_peer AS (PARTITION BY peer_id ORDER BY pk)) AS linked
    WHERE access_log.pk = linked.pk;
  UPDATE peer_state SET
    last_log_pk = (SELECT max(pk) FROM access_log WHERE access_log.peer_id = peer_state.peer_id),
    logged_pages = (SELECT count(*) FROM access_log WHERE access_log.peer_id = peer_state.peer_id);
  DROP INDEX access_log_peer;
  CREATE INDEX access_log_anchor ON access_log (peer_id, peer_seq) WHERE peer_seq % 256 = 0;
  `,

  // v13: a peer's access log outlives its sync state. Purging a peer deletes its peer_state row
  // (cursor, counters); the newest log row it links from (last_log_pk, with logged_pages) is put
  // back, so what the peer received stays readable for its 30 days as before v12. A peer purged
  // before v12 has log rows and no peer_state row: its head is made here.
  `
  INSERT INTO peer_state (peer_id, logged_pages, last_log_pk)
    SELECT peer_id, count(*), max(pk) FROM access_log WHERE peer_id NOT IN (SELECT peer_id FROM peer_state) GROUP BY peer_id;
  CREATE TRIGGER peer_state_keeps_log_head AFTER DELETE ON peer_state WHEN OLD.last_log_pk IS NOT NULL
  BEGIN
    INSERT INTO peer_state (peer_id, logged_pages, last_log_pk) VALUES (OLD.peer_id, OLD.logged_pages, OLD.last_log_pk);
  END;
  `,
]
