import path from 'node:path'
import type { Store } from '@inferlog/server'
import { type ClientFlags, clientFrom, type Io, printJson } from '../common.js'

/** The server package (store drivers included) loads only when a command works on the store itself. */
const server = () => import('@inferlog/server')

/** Flags of commands that read the store itself. */
export interface StoreFlags {
  data?: string
  store?: string
  json?: boolean
}

/** Flags of `inferlog verify`. */
export interface VerifyFlags extends StoreFlags {
  from?: string
  to?: string
  /** PEM files of public (or private) Ed25519 keys whose checkpoints are accepted. */
  publicKey?: string[]
  /** The operator's signing key (its public half is trusted); default $INFERLOG_AUDIT_KEY. */
  auditKey?: string
  /** Threads recomputing rows. */
  jobs?: string
}

/** A usage error, printed as `inferlog: <code>: <message>`. */
export class AuditUsageError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

/** `--store`, `$INFERLOG_STORE`, or the SQLite file under `--data` / `$INFERLOG_DATA` / `./data`. */
export function storeUrl(f: StoreFlags, env: NodeJS.ProcessEnv = process.env): string {
  return (
    f.store ??
    (env.INFERLOG_STORE || undefined) ??
    `sqlite:${path.join(path.resolve(f.data || env.INFERLOG_DATA || './data'), 'inferlog.db')}`
  )
}

/** Opens the store read-only where the adapter allows it, runs `fn`, closes it. */
export async function withStore<T>(f: StoreFlags, fn: (store: Store) => Promise<T>): Promise<T> {
  const url = storeUrl(f)
  const store = (await server()).openStore(url, { readOnly: url.startsWith('sqlite:') })
  try {
    await store.migrate()
    return await fn(store)
  } finally {
    await store.close()
  }
}

function position(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new AuditUsageError('invalid_parameter', `${name} must be a batch number ≥ 1, got ${v}`)
  return Number(v)
}

/**
 * `inferlog verify [--from N] [--to N] [--public-key FILE]… [--audit-key FILE]`: recomputes every
 * leaf, root and link of the audit chain from the stored rows and checks each checkpoint; exit 0
 * when everything checks, 1 otherwise (the first broken batch and row named).
 */
export async function verifyCommand(f: VerifyFlags, io: Io): Promise<number> {
  const s = await server()
  const from = position('--from', f.from)
  const to = position('--to', f.to)
  const keyFile = f.auditKey ?? (process.env.INFERLOG_AUDIT_KEY || undefined)
  const keys = [...s.loadPublicKeys(f.publicKey ?? []), ...(keyFile ? s.loadPublicKeys([keyFile]) : [])]
  const started = performance.now()
  const jobs = f.jobs === undefined ? undefined : position('--jobs', f.jobs)
  const r = await withStore(f, (store) =>
    s.verifyChainParallel(store, storeUrl(f), {
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
      ...(jobs !== undefined ? { jobs } : {}),
      keys,
    }),
  )
  const seconds = (performance.now() - started) / 1000
  if (f.json) {
    printJson(io, r, true)
  } else if (r.ok) {
    io.out(
      `ok: ${r.batches} batches, ${r.rows} rows verified in ${seconds.toFixed(1)} s (sealed to batch ${r.sealed_to}, head ${r.head}); ` +
        `${r.checkpoints.checked} checkpoints, signatures ${r.checkpoints.signatures === 'checked' ? 'checked' : 'not checked (no --public-key or --audit-key)'}`,
    )
  } else {
    io.out(`FAILED: ${r.first_error?.message}`)
    for (const e of r.errors.slice(1, 10)) io.out(`  also: ${e.message}`)
    if (r.errors.length > 10) io.out(`  … ${r.errors.length - 10} more (--json lists up to 100)`)
  }
  return r.ok ? 0 : 1
}

/**
 * `inferlog audit head`: the latest signed checkpoint as one JSON object, to publish outside the
 * system. From a server with `--url`, else from the store (`--data` / `--store`).
 */
export async function auditHeadCommand(f: ClientFlags & StoreFlags, io: Io): Promise<number> {
  let head: unknown
  if (f.url || process.env.INFERLOG_URL) {
    head = (await clientFrom(f, process.env, io).request('GET', '/v1/audit/head')).json
  } else {
    const s = await server()
    // A store the chain never ran on has no checkpoint table yet: the same answer as no checkpoint.
    head = await withStore(f, (store) => s.latestCheckpoint(store.derived).catch(() => undefined))
    if (!head)
      throw new AuditUsageError('not_found', 'no signed checkpoint yet: start the server with --audit-key FILE (see docs/audit.md)')
  }
  printJson(io, head, true)
  return 0
}

/** Flags of `inferlog audit check-proof`. */
export interface CheckProofFlags {
  publicKey?: string[]
  json?: boolean
}

/**
 * `inferlog audit check-proof FILE [--public-key KEY.pem]…`: checks an inclusion proof offline
 * (`-` reads stdin). Exit 0 when every hash checks (and, with keys, the checkpoint is signed by
 * one of them), 1 otherwise.
 */
export async function checkProofCommand(file: string, f: CheckProofFlags, io: Io): Promise<number> {
  const s = await server()
  const keys = s.loadPublicKeys(f.publicKey ?? [])
  const fs = await import('node:fs')
  let text: string
  try {
    text = file === '-' ? fs.readFileSync(0, 'utf8') : fs.readFileSync(file, 'utf8')
  } catch (e) {
    throw new AuditUsageError('invalid_parameter', `${file}: ${(e as Error).message}`)
  }
  let proof: unknown
  try {
    proof = JSON.parse(text)
  } catch {
    proof = undefined
  }
  const r = s.checkProof(proof, keys)
  if (f.json) printJson(io, r, true)
  else if (r.ok)
    io.out(
      `ok: event ${r.event_id} is in batch ${r.batch}; ` +
        (r.checkpoint === 'verified'
          ? 'checkpoint signature verified'
          : r.checkpoint === 'unchecked'
            ? 'checkpoint present, signature not checked (pass --public-key)'
            : 'no checkpoint covers it yet (not anchored to a signed head)'),
    )
  else io.out(`FAILED: ${r.error}`)
  return r.ok ? 0 : 1
}

/** `inferlog audit proof EVENT_ID`: fetches an event's inclusion proof from the server and prints it (JSON). */
export async function auditProofCommand(id: string, f: ClientFlags, io: Io): Promise<number> {
  const r = await clientFrom(f, process.env, io).request('GET', `/v1/audit/proof/${encodeURIComponent(id)}`)
  printJson(io, r.json, true)
  return 0
}

/** Flags of `inferlog export`. */
export interface ExportFlags extends StoreFlags, ClientFlags {
  after?: string
  out?: string
}

/** Writes to a file or stdout, waiting when the consumer is slower than the export. */
async function sink(out: string | undefined) {
  const fs = await import('node:fs')
  const stream = out ? fs.createWriteStream(out) : process.stdout
  return {
    async write(chunk: string | Uint8Array) {
      if (!stream.write(chunk)) await new Promise<void>((r) => stream.once('drain', () => r()))
    },
    async close() {
      if (out) await new Promise<void>((r, j) => (stream as import('node:fs').WriteStream).end((e?: Error | null) => (e ? j(e) : r())))
    },
  }
}

/**
 * `inferlog export [--after BATCH] [--out FILE]`: the sealed log after a batch (exclusive), in
 * commit order, as NDJSON with its chain records and checkpoints. From the server with `--url`
 * (`GET /v1/export`), else straight from the store (`--data` / `--store`).
 */
export async function exportCommand(f: ExportFlags, io: Io): Promise<number> {
  if (f.after !== undefined && !/^\d+$/.test(f.after))
    throw new AuditUsageError('invalid_parameter', `--after must be a batch number ≥ 0, got ${f.after}`)
  const after = Number(f.after ?? 0)
  const out = await sink(f.out)
  let lines = 0
  if (f.url || process.env.INFERLOG_URL) {
    const client = clientFrom(f, process.env, io)
    const res = await fetch(`${client.base}/v1/export?after=${after}`, { headers: client.authHeaders() })
    if (!res.ok || !res.body) {
      const err = ((await res.json().catch(() => undefined)) as { error?: { code?: string; message?: string } } | undefined)?.error
      throw new AuditUsageError(err?.code ?? `http_${res.status}`, err?.message ?? `HTTP ${res.status}`)
    }
    for await (const chunk of res.body) await out.write(chunk)
  } else {
    const s = await server()
    await withStore(f, async (store) => {
      let buf = ''
      for await (const line of s.exportLog(store, { after })) {
        buf += `${JSON.stringify(line)}\n`
        lines++
        if (buf.length > 1 << 20) {
          await out.write(buf)
          buf = ''
        }
      }
      if (buf) await out.write(buf)
    })
  }
  await out.close()
  if (f.out && !f.json) io.err(`inferlog: exported to ${f.out}${lines ? ` (${lines} lines)` : ''}`)
  return 0
}

/**
 * `inferlog import FILE [--data DIR | --store URL]`: rebuilds a store from an export (`-` reads
 * stdin), keeping ids, timestamps, bodies and batch boundaries; stops at the first batch that does
 * not check, naming it.
 */
export async function importCommand(file: string, f: StoreFlags, io: Io): Promise<number> {
  const s = await server()
  const fs = await import('node:fs')
  const readline = await import('node:readline')
  const input = file === '-' ? process.stdin : fs.createReadStream(file)
  const lines = readline.createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })
  const url = storeUrl(f)
  const store = s.openStore(url)
  try {
    await store.migrate()
    const r = await s.importLog(store, lines, {
      onBatch: (p, n) => {
        if (io.isTTY && !f.json && n % 1000 === 0) io.err(`inferlog: imported ${n} batches (up to batch ${p})`)
      },
    })
    if (f.json) printJson(io, r, true)
    else io.out(`imported ${r.batches} batches (${r.first}..${r.last}), ${r.rows} rows, ${r.checkpoints} checkpoints; chain head ${r.head}`)
    return 0
  } finally {
    lines.close()
    await store.close()
  }
}
