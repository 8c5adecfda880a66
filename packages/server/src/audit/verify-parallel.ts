import fs from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { Store } from '../store/store.js'
import { sealedHead } from './audit-chain-consumer.js'
import { type VerifyOptions, type VerifyReport, verifyChain } from './verify-chain.js'

/** Options of {@link verifyChainParallel}. */
export interface ParallelVerifyOptions extends VerifyOptions {
  /** Threads that recompute rows. Default the number of CPUs, at most 4; 1 checks in this thread. */
  jobs?: number
  /** Worker script. Default the compiled `verify-worker.js` beside this file. */
  script?: URL
  /**
   * Young generation of each worker, MiB. Default 64: every row's ~1 KB body is read as a string
   * and dropped at once, and a larger nursery collects that garbage less often (V8's default
   * young generation is about a quarter of this).
   */
  youngGenerationMb?: number
}

/**
 * {@link verifyChain} with the rows split among threads: the batch range is cut into `jobs`
 * contiguous parts of about equal rows, each checked on its own connection (each part's first link
 * starts from the sealed head before it, which the part before checks as its last); checkpoints
 * and tombstone digests are checked once, here. Falls back to one thread for small logs, or when
 * run from sources (worker threads load compiled JS only).
 */
export async function verifyChainParallel(store: Store, storeUrl: string, o: ParallelVerifyOptions = {}): Promise<VerifyReport> {
  const jobs = Math.max(1, o.jobs ?? Math.min(4, os.cpus().length))
  const script = o.script ?? new URL('./verify-worker.js', import.meta.url)
  const sealed = await sealedHead(store.derived).catch(() => undefined)
  if (jobs === 1 || !sealed || storeUrl === 'sqlite::memory:' || !fs.existsSync(fileURLToPath(script))) return verifyChain(store, o)
  const from = Math.max(1, o.from ?? 1)
  const to = Math.min(o.to ?? sealed.position, sealed.position)
  const marks = (await store.derived.db
    .selectFrom('audit_batches')
    .select(['position', 'rows_total'])
    .where('position', '>=', from)
    .where('position', '<=', to)
    .orderBy('n')
    .execute()) as { position: number; rows_total: number }[]
  if (marks.length < jobs * 4) return verifyChain(store, o)
  const base = Number(marks[0]!.rows_total)
  const span = Number(marks[marks.length - 1]!.rows_total) - base || 1
  const ranges: { from: number; to: number }[] = []
  let start = from
  for (let k = 1; k <= jobs; k++) {
    const target = base + (span * k) / jobs
    const cut = k === jobs ? marks[marks.length - 1]! : (marks.find((m) => Number(m.rows_total) >= target) ?? marks[marks.length - 1]!)
    const end = Number(cut.position)
    if (end >= start) ranges.push({ from: start, to: end })
    start = end + 1
  }
  const parts = ranges.map(
    (r, k) =>
      new Promise<VerifyReport>((resolve, reject) => {
        // Every part but the last leaves the rows past it to the next part's scan.
        const strays = k < ranges.length - 1 ? 'range' : (o.strays ?? 'end')
        const w = new Worker(script, {
          resourceLimits: { maxYoungGenerationSizeMb: o.youngGenerationMb ?? 64 },
          workerData: { url: storeUrl, ...r, strays, ...(o.chunkRows ? { chunkRows: o.chunkRows } : {}) },
        })
        w.once('message', (m: { ok: true; report: VerifyReport } | { ok: false; message: string }) => {
          if (m.ok) resolve(m.report)
          else reject(new Error(`verify of batches ${r.from}..${r.to}: ${m.message}`))
          void w.terminate()
        })
        w.once('error', reject)
      }),
  )
  const global = verifyChain(store, { ...o, from, to, parts: 'global' })
  const reports = await Promise.all([...parts, global])
  const errors = reports
    .flatMap((r) => r.errors)
    .sort((a, b) => (a.batch ?? Number.MAX_SAFE_INTEGER) - (b.batch ?? Number.MAX_SAFE_INTEGER))
  const last = reports[reports.length - 1]!
  return {
    ok: errors.length === 0,
    batches: reports.reduce((a, r) => a + r.batches, 0),
    rows: reports.reduce((a, r) => a + r.rows, 0),
    ...(errors[0] ? { first_error: errors[0] } : {}),
    errors: errors.slice(0, 100),
    sealed_to: last.sealed_to,
    head: last.head,
    checkpoints: last.checkpoints,
  }
}
