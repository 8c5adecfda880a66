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
  const r = await withStore(f, (store) =>
    s.verifyChain(store, { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}), keys }),
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
