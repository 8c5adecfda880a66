/**
 * Versioned schema of the SQLite store. Each entry runs once, in order, inside a transaction;
 * `schema_migrations` records what ran. Never edit a shipped migration: append a new one.
 *
 * Design notes:
 * - Rowid tables with a unique index on (project, id): measured about 3× faster to insert than a
 *   WITHOUT ROWID table keyed by the text id, and `seq` (the rowid) is a free, monotonic ingest
 *   order used as the pagination tie-breaker.
 * - Look-ups by session, user and experiment arm are not indexed on the write path: random keys
 *   dirty a B-tree page per event, which measured 3× the cost of the whole insert. A background
 *   pass copies them into `event_keys` (one clustered B-tree) in large batches; queries use it up
 *   to `meta.lookup_watermark` and scan the few newer rows by rowid.
 * - `batch` ties every row to the transaction that committed it: the unit of the audit chain.
 */
export const SQLITE_MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
CREATE TABLE batches (
  seq INTEGER PRIMARY KEY,
  committed_ms INTEGER NOT NULL,
  events INTEGER NOT NULL DEFAULT 0,
  feedback INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE events (
  seq INTEGER PRIMARY KEY,
  project TEXT NOT NULL,
  id TEXT NOT NULL,
  ts_ms INTEGER NOT NULL,
  received_ms INTEGER NOT NULL,
  model TEXT NOT NULL,
  version TEXT NOT NULL,
  stage TEXT NOT NULL,
  status TEXT NOT NULL,
  session_id TEXT,
  user_id TEXT,
  arm TEXT,
  shadow_of TEXT,
  batch INTEGER NOT NULL,
  body TEXT NOT NULL
);
CREATE UNIQUE INDEX events_project_id ON events (project, id);
CREATE INDEX events_project_ts ON events (project, ts_ms);
CREATE INDEX events_model_ts ON events (project, model, version, ts_ms);
CREATE INDEX events_shadow ON events (project, shadow_of) WHERE shadow_of IS NOT NULL;
CREATE TABLE feedback (
  seq INTEGER PRIMARY KEY,
  project TEXT NOT NULL,
  id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  name TEXT NOT NULL,
  ts_ms INTEGER NOT NULL,
  received_ms INTEGER NOT NULL,
  batch INTEGER NOT NULL,
  body TEXT NOT NULL
);
CREATE UNIQUE INDEX feedback_project_id ON feedback (project, id);
CREATE INDEX feedback_event ON feedback (project, event_id, ts_ms);
CREATE INDEX feedback_project_ts ON feedback (project, ts_ms);
CREATE INDEX feedback_name_ts ON feedback (project, name, ts_ms);
CREATE TABLE event_keys (
  project TEXT NOT NULL,
  kind INTEGER NOT NULL,
  key TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (project, kind, key, seq)
) WITHOUT ROWID;
CREATE TABLE meta (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
INSERT INTO meta (name, value) VALUES ('lookup_watermark', 0);
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  project TEXT NOT NULL,
  name TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  scopes TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  revoked_ms INTEGER
);
`,
  },
  {
    version: 2,
    sql: `ALTER TABLE api_keys ADD COLUMN expires_ms INTEGER;`,
  },
  {
    version: 3,
    // The commit feed: each batch records the highest event and feedback rowid it had committed,
    // so a range of batches is a range of rowids; consumers keep their watermark beside their data.
    sql: `
ALTER TABLE batches ADD COLUMN events_hi INTEGER;
ALTER TABLE batches ADD COLUMN feedback_hi INTEGER;
CREATE INDEX migrate_events_batch ON events (batch);
CREATE INDEX migrate_feedback_batch ON feedback (batch);
UPDATE batches SET
  events_hi = (SELECT max(seq) FROM events WHERE batch = batches.seq),
  feedback_hi = (SELECT max(seq) FROM feedback WHERE batch = batches.seq);
UPDATE batches SET events_hi = coalesce((SELECT max(b.events_hi) FROM batches b WHERE b.seq < batches.seq), 0) WHERE events_hi IS NULL;
UPDATE batches SET feedback_hi = coalesce((SELECT max(b.feedback_hi) FROM batches b WHERE b.seq < batches.seq), 0) WHERE feedback_hi IS NULL;
DROP INDEX migrate_events_batch;
DROP INDEX migrate_feedback_batch;
CREATE TABLE feed_consumers (
  name TEXT PRIMARY KEY,
  position INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
`,
  },
  {
    version: 4,
    // Which process runs each consumer: a lease, renewed while it works.
    sql: `ALTER TABLE feed_consumers ADD COLUMN holder TEXT;
ALTER TABLE feed_consumers ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;`,
  },
  {
    version: 5,
    // The audit chain's own rows: administrative records (erasure, retention, keys, redaction
    // rules), each committed as a batch of its own, and the leaf hashes of deleted rows.
    sql: `
CREATE TABLE audit_records (
  seq INTEGER PRIMARY KEY,
  project TEXT NOT NULL,
  id TEXT NOT NULL,
  ts_ms INTEGER NOT NULL,
  batch INTEGER NOT NULL,
  body TEXT NOT NULL
);
CREATE UNIQUE INDEX audit_records_project_id ON audit_records (project, id);
CREATE INDEX audit_records_batch ON audit_records (batch);
CREATE TABLE audit_tombstones (
  kind TEXT NOT NULL,
  project TEXT NOT NULL,
  id TEXT NOT NULL,
  batch INTEGER NOT NULL,
  leaf TEXT NOT NULL,
  record TEXT NOT NULL,
  PRIMARY KEY (kind, project, id)
) WITHOUT ROWID;
CREATE INDEX audit_tombstones_batch ON audit_tombstones (batch);
CREATE INDEX audit_tombstones_record ON audit_tombstones (record);
`,
  },
  {
    version: 6,
    // What the client sent, for rows the collector changed before storing (server-side
    // redaction): re-sends are told duplicate or conflict by it, not by the stored body.
    sql: `
CREATE TABLE sent_digests (
  kind TEXT NOT NULL,
  project TEXT NOT NULL,
  id TEXT NOT NULL,
  digest TEXT NOT NULL,
  PRIMARY KEY (kind, project, id)
) WITHOUT ROWID;
`,
  },
  {
    version: 7,
    // The explorer's commonest query, a model over a time window newest first: (project, model,
    // version, ts_ms) cannot order it without a version, and with statistics the planner then
    // sorted every event of the model. This one is ordered (the rowid, seq, ends every index).
    sql: `CREATE INDEX events_model_only_ts ON events (project, model, ts_ms);`,
  },
]
