import { Command, CommanderError } from 'commander'
import { type ClientFlags, clientOptions, processIo, type Io } from './common.js'
import { ApiError } from './http-client.js'
import { driftCommand, profileCommand } from './commands/drift.js'
import { ingestCommand } from './commands/ingest.js'
import { compareCommand, documentCommand, metricsCommand, modelsCommand, tailCommand } from './commands/monitoring.js'
import { proxyCommand } from './commands/proxy.js'
import { feedbackCommand, getCommand, queryCommand } from './commands/records.js'

// Commands that pull in the server, the store drivers or the dataset writers load them when they
// run, so `inferlog --help` and the client commands start in a fraction of the time.
function lazy<M, K extends keyof M>(load: () => Promise<M>, key: K): M[K] {
  return (async (...args: unknown[]) => ((await load())[key] as unknown as (...a: unknown[]) => Promise<number>)(...args)) as M[K]
}
const serveModule = () => import('./commands/serve.js')
const serveCommand = lazy(serveModule, 'serveCommand')
const workerModule = () => import('./commands/worker.js')
const workerCommand = lazy(workerModule, 'workerCommand')
const datasetsModule = () => import('./commands/datasets.js')
const datasetBuildCommand = lazy(datasetsModule, 'datasetBuildCommand')
const datasetCommand = lazy(datasetsModule, 'datasetCommand')
const datasetTriggerCommand = lazy(datasetsModule, 'datasetTriggerCommand')
const reviewCommand = lazy(datasetsModule, 'reviewCommand')
const scoreCommand = lazy(datasetsModule, 'scoreCommand')
const keysModule = () => import('./commands/keys.js')
const keysCreateCommand = lazy(keysModule, 'keysCreateCommand')
const keysListCommand = lazy(keysModule, 'keysListCommand')
const keysRevokeCommand = lazy(keysModule, 'keysRevokeCommand')
const auditModule = () => import('./commands/audit.js')
const verifyCommand = lazy(auditModule, 'verifyCommand')
const auditHeadCommand = lazy(auditModule, 'auditHeadCommand')
const privacyModule = () => import('./commands/privacy.js')
const eraseCommand = lazy(privacyModule, 'eraseCommand')
const retentionCommand = lazy(privacyModule, 'retentionCommand')
const auditProofCommand = lazy(auditModule, 'auditProofCommand')
const checkProofCommand = lazy(auditModule, 'checkProofCommand')
const redactionCommand = lazy(privacyModule, 'redactionCommand')
const exportCommand = lazy(auditModule, 'exportCommand')
const importCommand = lazy(auditModule, 'importCommand')
const replayModule = () => import('./commands/replay.js')
const replayCommand = lazy(replayModule, 'replayCommand')

/** Builds the `inferlog` command tree; each action stores its exit code in `result.code`. */
export function buildProgram(io: Io, result: { code: number }): Command {
  const program = new Command('inferlog')
    .description('Inference-time logging: record predictions, join feedback, query them.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
  const run = (p: Promise<number>) => p.then((c) => void (result.code = c))
  // Commands that talk to a server when one is given or found, else open the store themselves.
  const localOptions = (c: Command) =>
    clientOptions(c)
      .option('--data <dir>', 'data directory when not using --url (default ./data)')
      .option('--store <url>', 'store URL when not using --url')
  // Options of the processes that run the commit feed's consumers (serve, worker).
  const feedOptions = (c: Command, auditKeyDefault: string) =>
    c
      .option(
        '--consumers <list>',
        'commit-feed consumers to run: all (catalog,metrics,audit,profiles), none, or a comma list incl. noop (default all)',
      )
      .option('--audit-key <file>', `PEM Ed25519 key that signs audit checkpoints (default ${auditKeyDefault})`)
      .option('--checkpoint-interval-ms <n>', 'how often the audit head is signed when it moved (default 10000)')

  const serve = program
    .command('serve')
    .description('run the collector (embedded SQLite store under --data)')
    .option('--port <n>', 'port; 0 picks a free one (default 7070)')
    .option('--host <h>', 'address to bind (default 127.0.0.1; others need API keys)')
    .option('--data <dir>', 'data directory (default ./data)')
    .option('--store <url>', 'store URL (default sqlite:<data>/inferlog.db)')
    .option(
      '--queue <url>',
      'scale-out: publish accepted items to NATS JetStream (nats://host:port[?stream=…]); run `inferlog worker` to store them',
    )
    .option(
      '--require-keys',
      'refuse requests without an API key (default: off on loopback, where a keyless request is the local operator)',
    )
    .option('--max-body-bytes <n>', 'largest request body after decompression (default 5242880)')
    .option('--max-event-bytes <n>', 'largest single item (default 1048576)')
    .option('--max-future-skew-ms <n>', 'how far ahead of the server clock a ts may be (default 86400000)')
    .option('--headers-timeout-ms <n>', 'time to receive request headers (default 30000)')
    .option('--body-timeout-ms <n>', 'time to receive a whole request (default 60000)')
    .option('--idle-timeout-ms <n>', 'close a connection idle this long (default 60000)')
    .option('--max-connections <n>', 'most open connections (default 4096)')
    .option('--memory-budget-bytes <n>', 'bytes request bodies may hold at once before 503 (default 268435456)')

  feedOptions(serve, '$INFERLOG_AUDIT_KEY; none: no checkpoints')
    .option('--no-feed-thread', 'run the consumers on the event loop instead of their own thread (embedded SQLite)')
    .option('--feed-nice <n>', "nice value of the consumers' thread, 0-19 (default 10)")
    .option('--feed-process', 'run the consumers in a child process (SCHED_IDLE where chrt is installed) instead of a thread')
    .option('--no-feed-idle', "run the consumers' thread or child process at --feed-nice instead of SCHED_IDLE")
    .option(
      '--feed-yield <u>',
      'ingest first: consumers more than 5 s behind hold their steps while the collector (event loop or writer) is this busy, 0-1 or off (default 0.6)',
    )
    .option('--json', 'print {"url","open","store"} as the first line')
    .action((o) => run(serveCommand(o, io)))

  const worker = program
    .command('worker')
    .description('scale-out: consume the NATS JetStream queue and write the store (PostgreSQL), acknowledging after commit')
    .option('--store <url>', 'store URL, e.g. postgres://user@host/db (default $INFERLOG_STORE)')
    .option('--queue <url>', 'queue URL, e.g. nats://127.0.0.1:4222 (default $INFERLOG_QUEUE)')
    .option('--port <n>', 'serve /metrics, /healthz, /readyz on this port (default: none; 0 picks a free one)')
    .option('--host <h>', 'address of that endpoint (default 127.0.0.1)')
    .option('--max-groups <n>', 'queued groups merged into one store transaction (default 16)')
    .option('--concurrency <n>', 'store transactions in flight at once (default 2)')

  feedOptions(worker, '$INFERLOG_AUDIT_KEY')
    .option('--json', 'print {"worker":"ready",…} as the first line')
    .action((o) => run(workerCommand(o, io)))

  clientOptions(
    program
      .command('ingest')
      .argument('<file>', 'NDJSON file, one event (or feedback item with --feedback) per line')
      .description('send an NDJSON file to the collector in batches')
      .option('--feedback', 'the file holds feedback items')
      .option('--batch <n>', 'items per request (default 1000)')
      .option('--batch-bytes <n>', 'bytes per request (default 4194304)')
      .option('--retries <n>', 'retries of a batch on 503/network errors (default 20)'),
  ).action((file, o) => run(ingestCommand(file, o, io)))

  clientOptions(program.command('get').argument('<id>', 'event id').description('show an event with its feedback and shadows')).action(
    (id, o) => run(getCommand(id, o, io)),
  )

  clientOptions(
    program
      .command('query')
      .description('list events, newest first')
      .option('--model <name>')
      .option('--version <v>')
      .option('--stage <stage>')
      .option('--status <status>')
      .option('--from <time>', 'RFC 3339 or epoch ms, inclusive')
      .option('--to <time>', 'RFC 3339 or epoch ms, exclusive')
      .option('--session-id <id>')
      .option('--user-id <id>')
      .option('--arm <arm>')
      .option('--has-feedback <bool>')
      .option('--feedback <name>', 'only events with feedback of this name')
      .option('--limit <n>', '1..1000 (default 50)')
      .option('--cursor <c>', 'next_cursor of the previous page'),
  ).action((o) => run(queryCommand(o, io)))

  clientOptions(
    program
      .command('feedback')
      .argument('<event_id>')
      .argument('<name>', 'e.g. thumbs, label, rating, purchase')
      .argument('<value>', 'JSON value or plain string')
      .description('attach feedback to an event (before or after the event arrives)')
      .option('--kind <kind>', 'explicit or implicit')
      .option('--source <type>', 'user, annotator, model or system')
      .option('--comment <text>')
      .option('--id <id>', 'idempotency key'),
  ).action((eventId, name, value, o) => run(feedbackCommand(eventId, name, value, o, io)))

  clientOptions(
    program
      .command('metrics')
      .description('time-bucketed metrics from the aggregates (counts, errors, latency, quality with intervals)')
      .option('--model <name>')
      .option('--version <v...>', 'one or more versions')
      .option('--stage <stage>')
      .option('--arm <arm>')
      .option('--endpoint <endpoint>')
      .option('--from <time>', 'RFC 3339 or epoch ms (default: 24 h before --to)')
      .option('--to <time>', 'default now')
      .option('--bucket <b>', 'minute, hour, day or all (default hour)')
      .option('--group-by <keys>', 'comma list: version, stage, endpoint, arm, entity.KEY, tag.KEY')
      .option('--estimate <label>', 'add the label-free estimate (CBPE) of this label beside the realized figures')
      .option('--score <path>', 'with --estimate: the positive class probability of a binary classifier, e.g. output.score')
      .option('--probabilities <path>', 'with --estimate: class probabilities of a multiclass classifier, e.g. output.probabilities')
      .option('--positive <value>', 'with --score: the label value of the positive class (default true, 1, yes)')
      .option('--reference-from <time>', 'with --estimate: labelled window to calibrate on (default the queried window)')
      .option('--reference-to <time>'),
  ).action((o) => run(metricsCommand(o, io)))

  clientOptions(
    program
      .command('models')
      .argument('<action>', 'list, show or configure')
      .argument('[name]', 'model name')
      .argument('[config]', 'for configure: JSON, @FILE or a JSON file ({"labels", "monitored_fields", "dimensions"})')
      .description('models with traffic and their configuration'),
  ).action((action, name, config, o) => run(modelsCommand(action, name, config, o, io)))

  clientOptions(
    program
      .command('compare')
      .description('A/B comparison of two filters (--a, --b), or a shadow comparison (--shadow)')
      .option('--a <filter>', 'JSON filter, @FILE or a file')
      .option('--b <filter>', 'JSON filter, @FILE or a file')
      .option('--expected-split <share>', 'expected share of traffic in a (default 0.5)')
      .option('--shadow <filter>', 'primaries to pair with their shadows')
      .option('--output <path>', 'shadow: path inside the outputs to compare (default the whole output)'),
  ).action((o) => run(compareCommand(o, io)))

  clientOptions(
    program
      .command('drift')
      .description('data drift per field between a reference (filter or saved profile) and a current window')
      .option(
        '--reference <filter>',
        'reference window: JSON filter, @FILE or a file, e.g. {"model":"m","from":"2026-11-01","to":"2026-11-08"}',
      )
      .option('--profile <name>', 'reference: a saved profile (inferlog profile save) instead of a filter')
      .option('--current <filter>', 'current window: JSON filter, @FILE or a file')
      .option('--fields <list>', 'comma list of fields, e.g. input.age,input.country')
      .option(
        '--methods <list>',
        'per field: FIELD=METHOD,… (ks, chisquare, z, wasserstein, jensenshannon, psi, distance, ratio, mmd, model)',
      )
      .option('--thresholds <list>', 'per field: FIELD=NUMBER,…')
      .option('--mode <mode>', 'exact (every event, default) or profile (mergeable profiles: hourly, saved, or built by a scan)')
      .option('--sample <n>', 'exact mode: a seeded sample of N rows per window')
      .option('--correction <c>', 'none, bonferroni or benjamini-hochberg (p-value tests across fields)'),
  ).action((o) => run(driftCommand(o, io)))

  clientOptions(
    program
      .command('profile')
      .argument('<action>', 'save, list or show')
      .argument('[name]', 'profile name')
      .description('saved reference profiles: mergeable sketches of a window per field')
      .option('--filter <filter>', 'save: the window, a JSON filter, @FILE or a file')
      .option('--fields <list>', 'save: comma list of fields'),
  ).action((action, name, o) => run(profileCommand(action, name, o, io)))

  clientOptions(
    program
      .command('tail')
      .description('print newly committed events as they arrive (resumes after disconnects)')
      .option('--model <name>')
      .option('--version <v>')
      .option('--stage <stage>')
      .option('--status <status>'),
  ).action((o) => run(tailCommand(o, io)))

  for (const kind of ['prices', 'alerts'] as const) {
    clientOptions(
      program
        .command(kind)
        .argument('<action>', kind === 'prices' ? 'set or get' : 'set, list or evaluate')
        .argument('[file]', 'for set: a JSON file')
        .description(
          kind === 'prices' ? 'per-token price table used for costs clients did not send' : 'alert rules, their state and transitions',
        ),
    ).action((action, file, o) => run(documentCommand(kind, action, file, o, io)))
  }

  const dataset = program.command('dataset').description('training data from the log: versioned, reproducible datasets')
  clientOptions(
    dataset
      .command('build')
      .argument('<spec>', 'dataset spec, JSON or YAML')
      .option('--out <dir>', 'write (or download) the files here')
      .option('--name <name>', 'dataset name (default the spec name)')
      .option('--since-last', 'only events after the previous version (which becomes the parent)')
      .option('--data <dir>', 'build straight from the SQLite store under DIR instead of a server')
      .option('--store <url>', 'build straight from this store instead of a server')
      .option(
        '--workers <n>',
        'with --data/--store: threads compiling the build, this one included (default INFERLOG_DATASET_WORKERS, else min(2, cores); parquet 1)',
      ),
  ).action((spec, o) => run(datasetBuildCommand(spec, o, io)))
  for (const action of ['list', 'show', 'download'] as const) {
    const cmd = dataset
      .command(action)
      .description(action === 'list' ? 'datasets and their versions' : action === 'show' ? 'a version manifest' : "a version's files")
    if (action !== 'list') cmd.argument('<id>', 'name@version')
    if (action === 'download') cmd.option('--out <dir>', 'target directory (default NAME-VERSION)')
    clientOptions(cmd).action((...args: unknown[]) =>
      run(datasetCommand(action, action === 'list' ? undefined : (args[0] as string), args[action === 'list' ? 0 : 1] as ClientFlags, io)),
    )
  }
  clientOptions(
    dataset
      .command('trigger')
      .argument('<action>', 'set, show, remove or run')
      .argument('<name>', 'dataset name')
      .argument('[file]', 'for set: the trigger, JSON or YAML ({spec, schedule?, on_alert?, since_last?, webhook?})')
      .description('retraining trigger: build the next version on a schedule or when an alert fires, and POST its manifest')
      .option('--spec <file>', 'set: the dataset spec (JSON or YAML) instead of FILE')
      .option('--every <duration>', 'set: build at every multiple of this duration since the epoch, e.g. 1h, 1d')
      .option('--cron <expr>', 'set: build when this five-field cron expression matches')
      .option('--timezone <tz>', 'set: time zone of --cron (default UTC)')
      .option('--on-alert <ids>', 'set: comma list of alert rule ids whose firing builds a version')
      .option('--webhook <url>', 'set: POST each new version here')
      .option('--secret-env <var>', 'set: sign deliveries with the secret in this environment variable')
      .option('--full', 'set: rebuild the whole selection each time instead of since the last version'),
  ).action((action, name, file, o) => run(datasetTriggerCommand(action, name, file, o, io)))
  clientOptions(
    program
      .command('review')
      .argument('<action>', 'select, show, export or import')
      .argument('[queue]', 'queue name')
      .argument('[file]', 'for import: a Label Studio JSON export')
      .description('active learning: queues of events that most need a human label, via Label Studio')
      .option('--queue <name>', 'queue name (select)')
      .option('--strategy <s>', 'least-confidence, margin, entropy or disagreement')
      .option('--label <name>', 'feedback name of the labels (default label)')
      .option('--filter <json>', 'which events to pick from, e.g. {"model": "m"}')
      .option('--limit <n>', 'events in the queue (default 100)')
      .option('--out <file>', 'export: write the tasks here'),
  ).action((action, queue, file, o) => run(reviewCommand(action, queue, file, o, io)))

  clientOptions(
    program
      .command('score')
      .description('run a reward function over events and write the scores back as feedback (idempotent)')
      .option('--scorer <file>', 'JS module exporting score(event) (sync or async), name and version')
      .option('--name <feedback>', 'feedback name of the scores, e.g. reward')
      .option('--model <name>')
      .option('--version <v>')
      .option('--from <time>')
      .option('--to <time>')
      .option('--concurrency <n>', 'scorer calls in flight (default 8)'),
  ).action((o) => run(scoreCommand(o, io)))
  const collect = (v: string, prev: string[] = []) => [...prev, v]
  program
    .command('proxy')
    .description('OpenAI-compatible proxy: forwards to --upstream unchanged and logs every call to the collector')
    .requiredOption('--upstream <base_url>', 'base URL an OpenAI client would use, e.g. https://api.openai.com/v1')
    .option('--port <n>', 'port; 0 picks a free one (default 7071)')
    .option('--host <h>', 'address to bind (default 127.0.0.1)')
    .option('--url <url>', 'collector URL (default $INFERLOG_URL, else the server running on ./data, else http://127.0.0.1:7070)')
    .option('--api-key <key>', 'collector API key with the ingest scope (default $INFERLOG_API_KEY); never sent upstream')
    .option('--project <name>', 'project the events go to')
    .option('--timeout-ms <n>', 'give up on an upstream silent this long: 504 (default 600000)')
    .option('--redact', 'replace e-mail addresses, phone and card numbers in logged payloads')
    .option('--redact-path <path>', 'drop this field from logged events, e.g. input.messages.*.content (repeatable)', collect)
    .option('--json', 'print {"url","base_url","upstream","collector"} as the first line')
    .action((o) => run(proxyCommand(o, io)))

  clientOptions(
    program
      .command('replay')
      .description('re-run logged inputs against a candidate model and log the results as shadow events')
      .requiredOption('--as <name@version>', 'the candidate model, e.g. churn-clf@3.3.0-rc1')
      .option('--target <url>', 'HTTP endpoint receiving each input as a JSON POST body')
      .option('--module <file>', 'JavaScript module exporting predict(input, event)')
      .option('--filter <key=value>', 'selection in GET /v1/events terms, e.g. model=churn-clf (repeatable)', collect)
      .option('--model <name>')
      .option('--version <v>')
      .option('--stage <stage>', 'default primary')
      .option('--status <status>')
      .option('--from <time>', 'RFC 3339 or epoch ms, inclusive')
      .option('--to <time>', 'RFC 3339 or epoch ms, exclusive')
      .option('--session-id <id>')
      .option('--user-id <id>')
      .option('--arm <arm>')
      .option('--has-feedback <bool>')
      .option('--feedback <name>', 'only events with feedback of this name')
      .option('--limit <n>', 'most events to replay (default all that match)')
      .option('--set <path=value>', 'override an input field for a counterfactual, e.g. input.age=40 (repeatable)', collect)
      .option('--concurrency <n>', 'events in flight at once (default 4)')
      .option('--rate <r>', 'most candidate calls per second (default no limit)')
      .option('--timeout-ms <n>', 'a candidate silent this long fails that event (default 30000)'),
  ).action((o) => run(replayCommand(o, io)))

  const storeFlags = (c: Command) =>
    c
      .option('--data <dir>', 'data directory of the SQLite store (default ./data)')
      .option('--store <url>', 'store URL (default $INFERLOG_STORE, else sqlite:<data>/inferlog.db)')
  storeFlags(
    program
      .command('verify')
      .description('check the audit chain: recompute every row, batch root, chain link and checkpoint signature')
      .option('--from <batch>', 'first batch checked (default the first)')
      .option('--to <batch>', 'last batch checked (default the last sealed)')
      .option('--public-key <file>', 'PEM Ed25519 key whose checkpoints are trusted (repeatable)', collect, [])
      .option('--audit-key <file>', 'the signing key (default $INFERLOG_AUDIT_KEY); its public half is trusted')
      .option('--jobs <n>', 'threads recomputing rows (default the CPUs, at most 4)')
      .option('--json', 'print {"ok","batches","rows","first_error"?,...}'),
  ).action((o) => run(verifyCommand(o, io)))
  storeFlags(
    clientOptions(
      program
        .command('export')
        .description('stream the sealed log after a batch (exclusive) as NDJSON with its chain records (backup, migration)')
        .option('--after <batch>', 'export batches after this one (default 0: everything)')
        .option('--out <file>', 'write here instead of stdout'),
    ),
  ).action((o) => run(exportCommand(o, io)))
  storeFlags(
    program
      .command('import')
      .argument('<file>', 'an export (inferlog export / GET /v1/export); - reads stdin')
      .description('rebuild a store from an export: same ids, timestamps and batches; stops at the first batch that does not check')
      .option('--json', 'print {"batches","rows","first","last","head","checkpoints"}'),
  ).action((file, o) => run(importCommand(file, o, io)))
  const audit = program.command('audit').description('the audit chain: signed checkpoints and inclusion proofs')
  storeFlags(clientOptions(audit.command('head').description('print the latest signed checkpoint (JSON), to publish outside'))).action(
    (o) => run(auditHeadCommand(o, io)),
  )
  clientOptions(
    audit.command('proof').argument('<event_id>').description("print an event's inclusion proof (JSON) from the server"),
  ).action((id, o) => run(auditProofCommand(id, o, io)))
  audit
    .command('check-proof')
    .argument('<file>', 'a proof from `inferlog audit proof` or GET /v1/audit/proof/{id}; - reads stdin')
    .description('check an inclusion proof offline: leaf, Merkle path, chain and checkpoint signature')
    .option('--public-key <file>', 'PEM Ed25519 public key the checkpoint must be signed with (repeatable)', collect, [])
    .option('--json', 'print {"ok","error"?,"checkpoint","event_id","batch"}')
    .action((file, o) => run(checkProofCommand(file, o, io)))

  const keys = program.command('keys').description('manage API keys')
  localOptions(
    keys
      .command('create')
      .description('create a key (printed once)')
      .option('--scopes <list>', 'comma-separated: ingest,read,admin (default ingest,read)')
      .option('--name <label>', 'label shown in listings, 1-128 characters (default key)')
      .option('--expires <when>', 'RFC 3339 time, epoch ms, or a duration such as 30d, 12h (default never)'),
  ).action((o) => run(keysCreateCommand(o, io)))
  localOptions(keys.command('list').description('list keys (never the secrets)')).action((o) => run(keysListCommand(o, io)))
  localOptions(
    keys.command('revoke').argument('<id>', 'key id (from keys list)').description('revoke a key; it stops working at once'),
  ).action((id, o) => run(keysRevokeCommand(id, o, io)))

  localOptions(
    program
      .command('erase')
      .description('privacy erasure: remove the events of a user, a session or listed ids, with their shadows and feedback')
      .option(
        '--user-id <id>',
        "the user's raw id (its pseudonym under $INFERLOG_PSEUDONYMIZE_SECRET / the server's secret is matched too)",
      )
      .option('--session-id <id>', 'a session id')
      .option('--ids <list>', 'comma-separated event ids')
      .option('--reason <text>', 'why (e.g. the request reference); kept in the audit record (required)')
      .option('--yes', 'confirm an erasure matching more events than the confirmation threshold (default 1000)')
      .option('--dry-run', 'only count what would be erased'),
  ).action((o) => run(eraseCommand(o, io)))
  localOptions(
    program
      .command('retention')
      .argument('<action>', 'show | set | clear | run')
      .description("the project's retention policy: events (and feedback) older than N days are removed on a schedule")
      .option('--events-days <n>', 'set: remove events older than this many days (1..36500)')
      .option('--keep-feedback', 'set: keep feedback items (default: they expire with the same number of days)')
      .option('--reason <text>', 'set, clear: why; kept in the audit record')
      .option('--dry-run', 'run: only count what would be removed'),
  ).action((action, o) => run(retentionCommand(action, o, io)))
  localOptions(
    program
      .command('redaction')
      .argument('<action>', 'show | set | clear')
      .description("the project's server-side redaction: fields dropped and personal data masked before anything is stored")
      .option('--paths <list>', 'set: comma-separated field paths to drop (input.ssn,input.messages.*.name)')
      .option('--detectors <list>', 'set: email,phone,card (default all three; none for no detectors)')
      .option('--reason <text>', 'set, clear: why; kept in the audit record'),
  ).action((action, o) => run(redactionCommand(action, o, io)))

  return program
}

/** Runs the CLI; resolves with the exit code. Failures print one line: `inferlog: <reason>`. */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  const result = { code: 0 }
  const program = buildProgram(io, result)
  try {
    await program.parseAsync(argv, { from: 'user' })
    return result.code
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2
    if (e instanceof ApiError) io.err(`inferlog: ${e.code}: ${e.message}`)
    else if ((e as { code?: string }).code === 'ENOENT') io.err(`inferlog: ${(e as Error).message}`)
    else
      io.err(
        `inferlog: ${e instanceof Error ? ((e as { code?: string }).code ? `${(e as { code?: string }).code}: ` : '') + e.message : String(e)}`,
      )
    return 1
  }
}
