import { InferlogError } from '../errors.js'
import { FeedRunner } from '../feed/feed-runner.js'
import type { CommittedBatch, ImportedBatch, Store } from '../store/store.js'
import { AuditChainConsumer, batchLeaves, ensureAuditTables, sealedHead } from './audit-chain-consumer.js'
import { type Checkpoint, verifyCheckpoint } from './checkpoint.js'
import type { ExportAudit, ExportBatch, ExportEvent, ExportFeedback, ExportHeader, ExportTombstone } from './export-log.js'
import { EXPORT_FORMAT } from './export-log.js'
import { LeafHasher } from './leaf-hash.js'
import { chainHead, merkleRoot } from './merkle.js'

/** What {@link importLog} wrote. */
export interface ImportReport {
  batches: number
  rows: number
  /** Commit positions of the first and last batch imported (0 when none). */
  first: number
  last: number
  /** The chain head reached, hex (equal to the export's and, after sealing, the store's). */
  head: string
  checkpoints: number
}

/** Options of {@link importLog}. */
export interface ImportOptions {
  /** Told after each batch written. Default none. */
  onBatch?: (position: number, done: number) => void
}

const HEX = /^[0-9a-f]{64}$/
const isInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0

/** The import stopped: which batch (commit position, when known) and line, and why; what came before it is in the store. */
export class ImportStopped extends InferlogError {
  constructor(
    readonly line: number,
    readonly batch: number | undefined,
    why: string,
    readonly imported: number,
  ) {
    super(
      'bad_request',
      `import stopped at ${batch !== undefined ? `batch ${batch}` : 'the start'} (line ${line}): ${why}; ${imported} batches imported before it`,
      {
        details: { line, batch: batch ?? null, imported },
      },
    )
  }
}

/**
 * Rebuilds a store from an export (`exportLog`): each batch with its position, commit time, ids,
 * timestamps and bodies, in one transaction per batch, after checking it against its chain record
 * (counts, leaves, root, link to the previous head). Stops at the first batch that does not check,
 * naming it; the batches before it stay. Then seals what was written (the chain the store computes
 * equals the export's) and keeps the export's checkpoints that match it. The target must be empty,
 * or hold exactly the chain the export continues (`--after`), and nothing else may write to it
 * meanwhile.
 */
export async function importLog(store: Store, lines: AsyncIterable<string>, o: ImportOptions = {}): Promise<ImportReport> {
  await ensureAuditTables(store.derived)
  const seal = () => new FeedRunner(store, [new AuditChainConsumer(store)]).catchUp()
  await seal()
  const target = await sealedHead(store.derived)
  const hasher = new LeafHasher()
  let lineNo = 0
  let header: ExportHeader | undefined
  let current: { rec: ExportBatch; line: number; batch: ImportedBatch } | undefined
  let index = 0
  let head = ''
  let position = 0
  let imported = 0
  let rows = 0
  let rowsTotal = 0
  let first = 0
  let ended = false
  const checkpoints: Checkpoint[] = []
  const stop = (why: string, batch = current?.rec.position): never => {
    throw new ImportStopped(lineNo, batch, why, imported)
  }

  const flush = async () => {
    if (!current) return
    const { rec, batch } = current
    const got = {
      events: batch.events.length,
      feedback: batch.feedback.length,
      audit: batch.audit.length,
      tombstones: batch.tombstones.length,
    }
    for (const k of ['events', 'feedback', 'audit', 'tombstones'] as const) {
      if (got[k] !== rec[k]) stop(`it announces ${rec[k]} ${k} and holds ${got[k]} (a damaged or truncated export)`)
    }
    const asLogged: CommittedBatch = {
      position: rec.position,
      committedMs: rec.committed_ms,
      events: batch.events.map((e) => ({ ...e, seq: 0, batch: rec.position })),
      feedback: batch.feedback.map((f) => ({ ...f, seq: 0, batch: rec.position })),
      audit: batch.audit.map((a) => ({ ...a, seq: 0, batch: rec.position })),
    }
    const leaves = batchLeaves(asLogged, batch.tombstones, hasher)
    const root = merkleRoot(leaves)
    if (leaves.length !== rec.leaves || root.toString('hex') !== rec.root) stop('its rows do not hash to its root (a damaged export)')
    const next = chainHead(Buffer.from(head, 'hex'), {
      index: rec.index,
      position: rec.position,
      committedMs: rec.committed_ms,
      leaves: leaves.length,
      root,
    })
    if (next.toString('hex') !== rec.head) stop('its chain link does not follow from the previous batch (a reordered or spliced export)')
    try {
      await store.importBatch(batch)
    } catch (e) {
      stop(`the store refused it: ${(e as Error).message}`)
    }
    imported++
    rows += leaves.length
    rowsTotal += leaves.length
    if (first === 0) first = rec.position
    index = rec.index
    position = rec.position
    head = rec.head
    current = undefined
    o.onBatch?.(rec.position, imported)
  }

  for await (const text of lines) {
    lineNo++
    if (text.trim() === '') continue
    if (ended) stop('lines after the end line')
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      parsed = undefined
    }
    if (parsed === null || typeof parsed !== 'object') stop('not a JSON object')
    const line = parsed as Record<string, unknown>
    if (!header) {
      const h = line as unknown as ExportHeader
      if (h.type !== 'header' || h.format !== EXPORT_FORMAT) stop(`the first line is not an ${EXPORT_FORMAT} header`, undefined)
      if (!isInt(h.after) || !isInt(h.prev_index) || !isInt(h.prev_rows) || typeof h.prev_head !== 'string' || !HEX.test(h.prev_head))
        stop('malformed header', undefined)
      const expect = target
        ? { n: target.n, head: target.head.toString('hex'), position: target.position }
        : { n: 0, head: h.prev_head, position: 0 }
      if ((await store.commitHead()) !== expect.position)
        stop(`the store holds batches its chain has not sealed; import into an empty store (or one the export continues)`, undefined)
      if (
        h.prev_index !== expect.n ||
        h.prev_head !== expect.head ||
        (target && h.after !== target.position) ||
        (!target && h.prev_index !== 0)
      )
        stop(
          target
            ? `the export continues batch ${h.after} (chain index ${h.prev_index}); this store ends at batch ${target.position} (index ${target.n})`
            : `the export starts after batch ${h.after}; this store is empty (export from the start, --after 0)`,
          undefined,
        )
      header = h
      rowsTotal = h.prev_rows
      index = h.prev_index
      head = h.prev_head
      position = h.after
      continue
    }
    switch (line.type) {
      case 'batch': {
        await flush()
        const b = line as unknown as ExportBatch
        if (
          ![b.index, b.position, b.committed_ms, b.leaves, b.events, b.feedback, b.audit, b.tombstones].every(isInt) ||
          !HEX.test(String(b.root)) ||
          !HEX.test(String(b.head))
        )
          stop('malformed batch record', isInt(b.position) ? b.position : undefined)
        if (b.index !== index + 1 || b.position <= position)
          stop(`it follows batch ${position} (index ${index}) out of order (a reordered or spliced export)`, b.position)
        current = {
          rec: b,
          line: lineNo,
          batch: { position: b.position, committedMs: b.committed_ms, events: [], feedback: [], audit: [], tombstones: [] },
        }
        break
      }
      case 'event':
      case 'feedback':
      case 'audit':
      case 'tombstone': {
        if (!current) stop(`a ${line.type} line outside a batch`)
        const c = current!.batch
        if (line.type === 'event') {
          const e = line as unknown as ExportEvent
          c.events.push({
            project: e.project,
            id: e.id,
            tsMs: e.ts_ms,
            receivedMs: e.received_ms,
            model: e.model,
            version: e.version,
            stage: e.stage,
            status: e.status,
            sessionId: e.session_id,
            userId: e.user_id,
            arm: e.arm,
            shadowOf: e.shadow_of,
            body: e.body,
          })
        } else if (line.type === 'feedback') {
          const f = line as unknown as ExportFeedback
          c.feedback.push({
            project: f.project,
            id: f.id,
            eventId: f.event_id,
            name: f.name,
            tsMs: f.ts_ms,
            receivedMs: f.received_ms,
            body: f.body,
          })
        } else if (line.type === 'audit') {
          const a = line as unknown as ExportAudit
          c.audit.push({ project: a.project, id: a.id, tsMs: a.ts_ms, body: a.body })
        } else {
          const t = line as unknown as ExportTombstone
          if (!HEX.test(String(t.leaf))) stop('malformed tombstone')
          c.tombstones.push({ kind: t.kind, project: t.project, id: t.id, batch: c.position, leaf: t.leaf, record: t.record })
        }
        if (!checkRow(line)) stop(`malformed ${line.type} line`)
        break
      }
      case 'checkpoint': {
        await flush()
        const c = line as unknown as Checkpoint & { type?: string }
        const { type: _t, ...cp } = c
        if (
          verifyCheckpoint(cp, []) === 'malformed' ||
          cp.index !== index ||
          cp.batch !== position ||
          cp.root !== head ||
          cp.rows !== rowsTotal
        )
          stop(`checkpoint ${String(cp.index)} does not match the chain it follows`, position)
        checkpoints.push(cp)
        break
      }
      case 'end': {
        await flush()
        const end = line as { batches?: unknown; index?: unknown; head?: unknown }
        if (end.batches !== imported || end.index !== index || end.head !== head)
          stop('the end line does not match the batches read (a damaged export)', position)
        ended = true
        break
      }
      default:
        stop(`unknown line type ${JSON.stringify(line.type)}`)
    }
  }
  if (!header) throw new ImportStopped(lineNo, undefined, 'empty input', 0)
  if (!ended) {
    // A batch whose lines were cut off is not written; complete ones before it are.
    if (current) stop('the export ends inside this batch (truncated)')
    stop('no end line (truncated export)', position)
  }
  await seal()
  const sealed = await sealedHead(store.derived)
  if (imported > 0 && sealed?.head.toString('hex') !== head)
    throw new InferlogError('internal', `the store sealed head ${sealed?.head.toString('hex')} where the export says ${head}`)
  if (checkpoints.length > 0) {
    const db = store.derived.db
    await store.derived.write(
      checkpoints.map((c) =>
        db
          .insertInto('audit_checkpoints')
          .values({
            n: c.index,
            position: c.batch,
            rows_total: c.rows,
            head: Buffer.from(c.root, 'hex'),
            signed_ms: Date.parse(c.time),
            key_id: c.key_id,
            signature: Buffer.from(c.signature, 'base64'),
          })
          .onConflict((oc) => oc.column('n').doNothing())
          .compile(),
      ),
    )
  }
  return { batches: imported, rows, first, last: imported > 0 ? position : 0, head, checkpoints: checkpoints.length }
}

const str = (v: unknown) => typeof v === 'string'
const isTime = (v: unknown) => Number.isSafeInteger(v)
const strOrNull = (v: unknown) => v === null || typeof v === 'string'

function checkRow(l: Record<string, unknown>): boolean {
  if (!str(l.project) || !str(l.id)) return false
  if (l.type === 'event')
    return (
      isTime(l.ts_ms) &&
      isTime(l.received_ms) &&
      [l.model, l.version, l.stage, l.status, l.body].every(str) &&
      [l.session_id, l.user_id, l.arm, l.shadow_of].every(strOrNull)
    )
  if (l.type === 'feedback') return isTime(l.ts_ms) && isTime(l.received_ms) && [l.event_id, l.name, l.body].every(str)
  if (l.type === 'audit') return isTime(l.ts_ms) && str(l.body)
  return (l.kind === 'event' || l.kind === 'feedback') && str(l.record)
}
