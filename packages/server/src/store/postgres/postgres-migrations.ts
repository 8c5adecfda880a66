/**
 * Versioned schema of the PostgreSQL store. Each entry runs once, in order, inside a transaction
 * holding an advisory lock (several collectors and workers may start at once); `schema_migrations`
 * records what ran. Never edit a shipped migration: append a new one.
 *
 * Design notes (sized for hundreds of millions of rows):
 * - `events` and `feedback` are range-partitioned by `ts_ms`, one partition per UTC month, created
 *   on demand by the writer (`postgres-partitions.ts`). Time-range reads prune to the months they
 *   touch, retention drops a whole month, and each partition's indexes stay small.
 * - A unique constraint on a partitioned table must include the partition key, so (project, id)
 *   uniqueness cannot live there: an event re-sent with another `ts` would land in another month.
 *   The small, unpartitioned `event_ids` / `feedback_ids` tables are keyed by (project, id) and hold
 *   the row's `ts_ms` and `seq`: `INSERT … ON CONFLICT DO NOTHING` there is the idempotency gate,
 *   and a lookup by id goes key → (month, ts, seq) on the partition's time index, so the
 *   partitions need no second index on the id.
 * - `seq` comes from one sequence per table, assigned with the key: a monotonic ingest order and
 *   the keyset tie-breaker.
 * - A `DEFAULT` partition holds the rare rows whose month has no partition (timestamps far in the
 *   past or future, outside the window in which partitions are created), so no timestamp is ever
 *   refused and a skewed client cannot make thousands of partitions.
 * - Text columns compare bytewise (`COLLATE "C"`): ids, names and keys are matched for equality,
 *   never sorted for people, and the database's default collation (often a locale) would make
 *   every B-tree comparison a `strcoll` call on the insert path.
 * - `conflicts` keeps every refused re-send (same id, different content) an operator can query; a
 *   redelivered message records the same conflict once.
 */
export const POSTGRES_MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
CREATE SEQUENCE batches_seq;
CREATE TABLE batches (
  seq bigint PRIMARY KEY,
  committed_ms bigint NOT NULL,
  events integer NOT NULL DEFAULT 0,
  feedback integer NOT NULL DEFAULT 0
);

CREATE SEQUENCE events_seq;
CREATE TABLE event_ids (
  project text COLLATE "C" NOT NULL,
  id text COLLATE "C" NOT NULL,
  ts_ms bigint NOT NULL,
  seq bigint NOT NULL,
  PRIMARY KEY (project, id)
);
CREATE TABLE events (
  seq bigint NOT NULL,
  project text COLLATE "C" NOT NULL,
  id text COLLATE "C" NOT NULL,
  ts_ms bigint NOT NULL,
  received_ms bigint NOT NULL,
  model text COLLATE "C" NOT NULL,
  version text COLLATE "C" NOT NULL,
  stage text COLLATE "C" NOT NULL,
  status text COLLATE "C" NOT NULL,
  session_id text COLLATE "C",
  user_id text COLLATE "C",
  arm text COLLATE "C",
  shadow_of text COLLATE "C",
  batch bigint NOT NULL,
  body text NOT NULL
) PARTITION BY RANGE (ts_ms);
CREATE TABLE events_default PARTITION OF events DEFAULT;
CREATE INDEX events_project_ts ON events (project, ts_ms, seq);
CREATE INDEX events_model_ts ON events (project, model, version, ts_ms);
CREATE INDEX events_session ON events (project, session_id, ts_ms) WHERE session_id IS NOT NULL;
CREATE INDEX events_user ON events (project, user_id, ts_ms) WHERE user_id IS NOT NULL;
CREATE INDEX events_arm ON events (project, arm, ts_ms) WHERE arm IS NOT NULL;
CREATE INDEX events_shadow ON events (project, shadow_of) WHERE shadow_of IS NOT NULL;

CREATE SEQUENCE feedback_seq;
CREATE TABLE feedback_ids (
  project text COLLATE "C" NOT NULL,
  id text COLLATE "C" NOT NULL,
  ts_ms bigint NOT NULL,
  seq bigint NOT NULL,
  PRIMARY KEY (project, id)
);
CREATE TABLE feedback (
  seq bigint NOT NULL,
  project text COLLATE "C" NOT NULL,
  id text COLLATE "C" NOT NULL,
  event_id text COLLATE "C" NOT NULL,
  name text COLLATE "C" NOT NULL,
  ts_ms bigint NOT NULL,
  received_ms bigint NOT NULL,
  batch bigint NOT NULL,
  body text NOT NULL
) PARTITION BY RANGE (ts_ms);
CREATE TABLE feedback_default PARTITION OF feedback DEFAULT;
CREATE INDEX feedback_event ON feedback (project, event_id, ts_ms);
CREATE INDEX feedback_project_ts ON feedback (project, ts_ms, seq);
CREATE INDEX feedback_name_ts ON feedback (project, name, ts_ms);

CREATE TABLE conflicts (
  seq bigserial PRIMARY KEY,
  kind text COLLATE "C" NOT NULL CHECK (kind IN ('event', 'feedback')),
  project text COLLATE "C" NOT NULL,
  id text COLLATE "C" NOT NULL,
  seen_ms bigint NOT NULL,
  batch bigint NOT NULL,
  body text NOT NULL
);
CREATE UNIQUE INDEX conflicts_once ON conflicts (kind, project, id, md5(body));
CREATE INDEX conflicts_seen ON conflicts (seen_ms);

CREATE TABLE api_keys (
  id text COLLATE "C" PRIMARY KEY,
  project text COLLATE "C" NOT NULL,
  name text COLLATE "C" NOT NULL,
  hash text NOT NULL UNIQUE,
  scopes text NOT NULL,
  created_ms bigint NOT NULL,
  revoked_ms bigint
);
`,
  },
  {
    version: 2,
    sql: `ALTER TABLE api_keys ADD COLUMN expires_ms bigint;`,
  },
  {
    version: 3,
    // The commit feed. Workers take batch numbers from a sequence but commit out of that order, so
    // a batch gets its commit position after it committed, from one sequencer at a time (an
    // advisory lock): every position a reader can see was assigned after every lower one was
    // visible. Feed reads find a batch's rows by the batch indexes.
    sql: `
CREATE SEQUENCE commit_seq;
ALTER TABLE batches ADD COLUMN commit_seq bigint;
UPDATE batches b SET commit_seq = s.n FROM (SELECT seq, row_number() OVER (ORDER BY seq) AS n FROM batches) s WHERE b.seq = s.seq;
SELECT setval('commit_seq', coalesce((SELECT max(commit_seq) FROM batches), 0) + 1, false);
CREATE UNIQUE INDEX batches_commit_seq ON batches (commit_seq);
CREATE INDEX batches_unstamped ON batches (seq) WHERE commit_seq IS NULL;
CREATE INDEX events_batch ON events (batch);
CREATE INDEX feedback_batch ON feedback (batch);
CREATE FUNCTION inferlog_stamp_commits() RETURNS bigint LANGUAGE plpgsql AS $fn$
DECLARE head bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('inferlog.commit_seq'));
  UPDATE batches b SET commit_seq = s.n
    FROM (SELECT u.seq, nextval('commit_seq') AS n
            FROM (SELECT seq FROM batches WHERE commit_seq IS NULL ORDER BY seq) u) s
   WHERE b.seq = s.seq;
  SELECT max(commit_seq) INTO head FROM batches;
  RETURN coalesce(head, 0);
END
$fn$;
CREATE TABLE feed_consumers (
  name text COLLATE "C" PRIMARY KEY,
  position bigint NOT NULL,
  updated_ms bigint NOT NULL
);
`,
  },
  {
    version: 4,
    sql: `ALTER TABLE feed_consumers ADD COLUMN holder text;
ALTER TABLE feed_consumers ADD COLUMN lease_until bigint NOT NULL DEFAULT 0;`,
  },
  {
    version: 5,
    // The audit chain's own rows: administrative records (erasure, retention, keys, redaction
    // rules), each committed as a batch of its own (\`batch\` is the internal batch number, as in
    // \`events\`), and the leaf hashes of deleted rows (\`batch\` there is the commit position).
    sql: `
CREATE SEQUENCE audit_records_seq;
CREATE TABLE audit_records (
  seq bigint PRIMARY KEY DEFAULT nextval('audit_records_seq'),
  project text COLLATE "C" NOT NULL,
  id text COLLATE "C" NOT NULL,
  ts_ms bigint NOT NULL,
  batch bigint NOT NULL,
  body text NOT NULL,
  UNIQUE (project, id)
);
CREATE INDEX audit_records_batch ON audit_records (batch);
CREATE TABLE audit_tombstones (
  kind text COLLATE "C" NOT NULL,
  project text COLLATE "C" NOT NULL,
  id text COLLATE "C" NOT NULL,
  batch bigint NOT NULL,
  leaf text NOT NULL,
  record text COLLATE "C" NOT NULL,
  PRIMARY KEY (kind, project, id)
);
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
  kind text COLLATE "C" NOT NULL,
  project text COLLATE "C" NOT NULL,
  id text COLLATE "C" NOT NULL,
  digest text NOT NULL,
  PRIMARY KEY (kind, project, id)
);
`,
  },
  {
    version: 7,
    // A model over a time window, newest first, without a version (see the SQLite migration 7).
    sql: `CREATE INDEX events_model_only_ts ON events (project, model, ts_ms, seq);`,
  },
  {
    version: 8,
    // A batch's rows in row order straight from the index: a scan reads a few batches at a time
    // (`batch = ANY(…) ORDER BY batch, seq`) and the feed reads batches the same way; with `(batch)`
    // alone PostgreSQL sorted every group, bodies included (~5 µs per event, \`npm run bench:scan\`).
    sql: `
CREATE INDEX events_batch_seq ON events (batch, seq);
DROP INDEX events_batch;
CREATE INDEX feedback_batch_seq ON feedback (batch, seq);
DROP INDEX feedback_batch;
`,
  },
]
