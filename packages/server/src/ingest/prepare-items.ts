import { type ErrorCode, type ItemRejection, type Redactor, uuidv7 } from '@inferlog/schema'
import type { Validator } from '@inferlog/schema/validate'
import { PARSED_BODY } from '../store/ports/parsed-body.js'
import { sentDigestOf } from '../store/same-content.js'
import type { EventRecord, FeedbackRecord } from '../store/store.js'
import type { ParsedItem } from './parse-items.js'

/** Context of one ingest request. */
export interface PrepareContext {
  project: string
  /** Receipt time, epoch ms; used for items without `ts`. */
  receivedMs: number
  maxItemBytes: number
  /** How far in the future an item's `ts` may lie, ms; further is `ts_out_of_range`. */
  maxFutureSkewMs: number
  validator: Validator
  /**
   * The project's server-side redaction, applied to each valid item before it is stored; a changed
   * item keeps the digest of what the client sent (`sentDigest`). Default none.
   */
  redactor?: Redactor
}

/** Items split into records to write and per-item rejections. */
export interface Prepared<R> {
  /** Records in input order, each with its input index. */
  records: { index: number; record: R }[]
  rejected: ItemRejection[]
  /** Each input item's id, `null` until accepted. */
  ids: (string | null)[]
}

type Obj = Record<string, unknown>

function reject(index: number, code: ErrorCode, message: string, path?: string, id?: string): ItemRejection {
  const r: ItemRejection = { index, code, message }
  if (id !== undefined) r.id = id
  if (path !== undefined && path !== '') r.path = path
  return r
}

/** Parses an RFC 3339 timestamp that already passed format validation; NaN when unreadable. */
function timeMs(ts: unknown): number {
  if (typeof ts !== 'string') return NaN
  const ms = Date.parse(ts)
  // RFC 3339 also allows a lower-case t/z and a space separator, which Date.parse may refuse.
  return Number.isNaN(ms) ? Date.parse(ts.replace(/^(\d{4}-\d\d-\d\d)[tT ]/, '$1T').replace(/z$/, 'Z')) : ms
}

/**
 * The text to store for an item: the client's own line when it already carries an id (no
 * re-serialization on the hot path), else JSON of the item with the assigned id. Idempotency
 * compares canonical forms only when an id collides (see store/same-content.ts).
 */
function bodyOf(
  p: { index: number; bytes: number; text?: string },
  item: Obj,
  id: string,
  idGiven: boolean,
  maxItemBytes: number,
): string | ItemRejection {
  if (idGiven && p.text !== undefined) return p.text
  const body = JSON.stringify(item)
  // UTF-16 length ≤ UTF-8 bytes ≤ 3 × UTF-16 length: count bytes only when it can matter.
  if (body.length * 3 > maxItemBytes) {
    const bytes = Buffer.byteLength(body)
    if (bytes > maxItemBytes) {
      return reject(p.index, 'item_too_large', `item of ${bytes} bytes is over the ${maxItemBytes}-byte limit`, '', id)
    }
  }
  return body
}

function prepareEach<R>(
  kind: 'event' | 'feedback',
  items: ParsedItem[],
  check: Validator['event'],
  build: (item: Obj, id: string, body: string, tsMs: number, sentDigest: string | undefined) => R,
  ctx: PrepareContext,
): Prepared<R> {
  const out: Prepared<R> = { records: [], rejected: [], ids: new Array(items.length).fill(null) }
  for (let n = 0; n < items.length; n++) {
    const p = items[n]!
    if ('error' in p) {
      out.rejected.push(reject(p.index, p.error.code, p.error.message, p.error.path))
      continue
    }
    const issue = check(p.value, p.text)
    const item = p.value as Obj
    const givenId = typeof item?.id === 'string' ? item.id : undefined
    if (issue) {
      out.rejected.push(reject(p.index, issue.code, issue.message, issue.path, givenId))
      continue
    }
    const id = givenId ?? uuidv7()
    if (givenId === undefined) item.id = id
    let body = bodyOf(p, item, id, givenId !== undefined, ctx.maxItemBytes)
    if (typeof body !== 'string') {
      out.rejected.push(body)
      continue
    }
    // Both record kinds carry an optional RFC 3339 `ts`; the receipt time stands in for it.
    const tsMs = item.ts === undefined ? ctx.receivedMs : timeMs(item.ts)
    if (Number.isNaN(tsMs)) {
      out.rejected.push(reject(p.index, 'validation_failed', '/ts is not a readable RFC 3339 time', '/ts', id))
      continue
    }
    // A clock far ahead would pin an item to the top of every newest-first list for good.
    if (tsMs > ctx.receivedMs + ctx.maxFutureSkewMs) {
      const skew = `${Math.round(ctx.maxFutureSkewMs / 1000)} s`
      out.rejected.push(reject(p.index, 'ts_out_of_range', `/ts is more than ${skew} ahead of the server's clock`, '/ts', id))
      continue
    }
    // Defense in depth: the project's redaction again, after validation, before anything is stored.
    let stored = item
    let digest: string | undefined
    if (ctx.redactor) {
      const redacted = ctx.redactor.apply(item, kind)
      if (redacted !== item) {
        digest = sentDigestOf(item, body)
        stored = redacted
        body = JSON.stringify(redacted)
      }
    }
    out.records.push({ index: p.index, record: build(stored, id, body, tsMs, digest) })
  }
  return out
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null
}

/**
 * Validates events, assigns UUIDv7 ids where missing and builds store records.
 * Items are never rejected for what the store holds; that (duplicate/conflict) is the store's call.
 */
export function prepareEvents(items: ParsedItem[], ctx: PrepareContext): Prepared<EventRecord> {
  return prepareEach<EventRecord>(
    'event',
    items,
    ctx.validator.event,
    (e, id, body, tsMs, digest) => {
      const model = e.model as Obj
      const trace = (e.trace ?? {}) as Obj
      const experiment = ((e.context as Obj | undefined)?.experiment ?? {}) as Obj
      return {
        project: ctx.project,
        id,
        tsMs,
        receivedMs: ctx.receivedMs,
        model: model.name as string,
        version: model.version as string,
        stage: (model.stage as string | undefined) ?? 'primary',
        status: (e.status as string | undefined) ?? 'ok',
        sessionId: str(trace.session_id),
        userId: str(trace.user_id),
        arm: str(experiment.arm),
        shadowOf: str(e.shadow_of),
        body,
        ...(digest ? { sentDigest: digest } : {}),
        // The item `body` is the JSON of (nothing changes it after this): the commit feed's
        // consumers read it instead of parsing the stored text again.
        [PARSED_BODY]: e,
      }
    },
    ctx,
  )
}

/** Validates feedback items, assigns ids where missing and builds store records. */
export function prepareFeedback(items: ParsedItem[], ctx: PrepareContext): Prepared<FeedbackRecord> {
  return prepareEach<FeedbackRecord>(
    'feedback',
    items,
    ctx.validator.feedback,
    (f, id, body, tsMs, digest) => ({
      project: ctx.project,
      id,
      eventId: f.event_id as string,
      name: f.name as string,
      tsMs,
      receivedMs: ctx.receivedMs,
      body,
      ...(digest ? { sentDigest: digest } : {}),
      [PARSED_BODY]: f,
    }),
    ctx,
  )
}
