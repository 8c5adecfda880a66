import { createHash } from 'node:crypto'
import { DatasetError } from '../errors.js'

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/** A Label Studio task (import format): the event under `data`, its id in `data.event_id`. */
export interface LabelStudioTask {
  data: { event_id: string; queue: string; text?: string; input: unknown; output: unknown; model: unknown }
  meta: { inferlog_event_id: string; score?: number }
}

/** Options of {@link toLabelStudioTasks}. */
export interface LabelStudioExportOptions {
  /** Review queue name, kept in each task. */
  queue: string
  /** Uncertainty per event id (from the selection), shown in `meta.score`. */
  scores?: Map<string, number>
}

function textOf(input: unknown): string | undefined {
  if (typeof input === 'string') return input
  if (!isObj(input)) return undefined
  if (typeof input.text === 'string') return input.text
  if (typeof input.prompt === 'string') return input.prompt
  if (Array.isArray(input.messages)) {
    return input.messages
      .map((m) => (isObj(m) ? `${String(m.role)}: ${typeof m.content === 'string' ? m.content : JSON.stringify(m.content)}` : ''))
      .join('\n')
  }
  return undefined
}

/**
 * Label Studio tasks for the selected events (a JSON array to import into a project). `data.text`
 * is a readable text of the input when it has one (text, prompt or messages), for text labeling
 * configs; `data.input`/`data.output` hold the raw JSON for custom ones.
 */
export function toLabelStudioTasks(events: Obj[], options: LabelStudioExportOptions): LabelStudioTask[] {
  return events.map((e) => {
    const id = String(e.id)
    const text = textOf(e.input)
    const score = options.scores?.get(id)
    return {
      data: {
        event_id: id,
        queue: options.queue,
        ...(text === undefined ? {} : { text }),
        input: e.input ?? null,
        output: e.output ?? null,
        model: e.model ?? null,
      },
      meta: { inferlog_event_id: id, ...(score === undefined ? {} : { score }) },
    }
  })
}

/** A feedback item from an annotation. */
export interface AnnotationFeedback {
  id: string
  event_id: string
  name: string
  value: number | string | boolean | Obj
  source: { type: 'annotator'; id?: string }
  ts?: string
  comment?: string
}

/** What an import found. */
export interface LabelStudioImport {
  feedback: AnnotationFeedback[]
  /** Tasks whose event is not in the queue (or that carry no event id): reported, not imported. */
  unknown: { task: unknown; reason: string }[]
  /** Annotations without a usable result (cancelled, empty). */
  skipped: number
}

/** The value of one result entry: a single choice as a string, several as `{choices}`, a rating/number as a number, text as a string. */
function resultValue(r: Obj): AnnotationFeedback['value'] | undefined {
  const v = isObj(r.value) ? r.value : {}
  if (Array.isArray(v.choices)) return v.choices.length === 1 ? String(v.choices[0]) : { choices: v.choices }
  if (typeof v.rating === 'number') return v.rating
  if (typeof v.number === 'number') return v.number
  if (Array.isArray(v.text)) return v.text.map(String).join('\n')
  if (typeof v.text === 'string') return v.text
  if (Object.keys(v).length > 0) return v
  return undefined
}

/** Options of {@link fromLabelStudio}. */
export interface LabelStudioImportOptions {
  /** Feedback name the labels are stored under, e.g. `label`. */
  name: string
  /** Event ids of the queue; a task outside it is reported as unknown. */
  queue: ReadonlySet<string>
}

/**
 * Turns a Label Studio JSON export (tasks with `annotations`) into feedback items with
 * `source.type: annotator` (`source.id` = the annotator), one per annotation result, id derived
 * from event id, annotation id and result index so a re-import is a duplicate, not a new label.
 * Unknown tasks are reported and the rest imported; a file that is not a task list is refused.
 */
export function fromLabelStudio(exported: unknown, options: LabelStudioImportOptions): LabelStudioImport {
  if (!Array.isArray(exported)) throw new DatasetError('invalid_input', 'a Label Studio export is a JSON array of tasks')
  const out: LabelStudioImport = { feedback: [], unknown: [], skipped: 0 }
  for (const task of exported) {
    const data = isObj(task) && isObj(task.data) ? task.data : undefined
    const eventId = typeof data?.event_id === 'string' ? data.event_id : undefined
    if (eventId === undefined) {
      out.unknown.push({ task: isObj(task) ? (task.id ?? null) : null, reason: 'no data.event_id' })
      continue
    }
    if (!options.queue.has(eventId)) {
      out.unknown.push({ task: isObj(task) ? (task.id ?? eventId) : eventId, reason: `event ${eventId} is not in the queue` })
      continue
    }
    const annotations = Array.isArray((task as Obj).annotations) ? ((task as Obj).annotations as unknown[]) : []
    for (const a of annotations) {
      if (!isObj(a) || a.was_cancelled === true || !Array.isArray(a.result) || a.result.length === 0) {
        out.skipped++
        continue
      }
      a.result.forEach((r, i) => {
        const value = isObj(r) ? resultValue(r) : undefined
        if (value === undefined) {
          out.skipped++
          return
        }
        const key = `${eventId}\u0000${String(a.id ?? '')}\u0000${i}\u0000${options.name}`
        const ts = typeof a.updated_at === 'string' ? a.updated_at : typeof a.created_at === 'string' ? a.created_at : undefined
        const by = a.completed_by
        const annotator = isObj(by) ? (by.email ?? by.id) : by
        out.feedback.push({
          id: `ls-${createHash('sha256').update(key).digest('hex').slice(0, 40)}`,
          event_id: eventId,
          name: options.name,
          value,
          source: { type: 'annotator', ...(annotator === undefined || annotator === null ? {} : { id: String(annotator) }) },
          ...(ts && !Number.isNaN(Date.parse(ts)) ? { ts: new Date(Date.parse(ts)).toISOString() } : {}),
        })
      })
    }
  }
  return out
}
