import type { LabelContribution } from '@inferlog/analysis'
import type { InferenceEvent } from '@inferlog/schema'
import type { CompiledWrite, DerivedStore, LoggedEvent } from '../store/store.js'
import { RowsTemplate } from '../feed/write-template.js'
import type { EventFacts } from './metrics-consumer.js'

type Json = InferenceEvent['output']

/** The effective label (or conversion) of one (event, feedback name), as the metrics consumer keeps it. */
export interface LabelState {
  project: string
  eventId: string
  name: string
  kind: 'label' | 'conversion'
  /** (ts, row) of the effective label: a newer signal replaces it. */
  order: [number, number] | null
  /** The effective label's value. */
  value: Json
  /** Conversion: times of the implicit signals seen (earliest first, at most 32). */
  times: number[]
  converted: boolean
  /** The event has not been seen yet. */
  pending: boolean
  /** Where the event counts (once seen). */
  facts?: EventFacts
  /** What the effective label added, and where: retracted exactly when it is replaced. */
  contribution?: LabelContribution
  contributedTo?: EventFacts
}

const CHUNK = 500

function chunks<T>(xs: readonly T[]): T[][] {
  const out: T[][] = []
  for (let i = 0; i < xs.length; i += CHUNK) out.push(xs.slice(i, i + CHUNK))
  return out
}

const key = (project: string, eventId: string, name: string) => `${project}\u0000${eventId}\u0000${name}`

function fromRow(r: Record<string, unknown>): LabelState {
  const stored = JSON.parse(r.value as string) as { value?: Json; times?: number[]; converted?: boolean }
  const c = r.contribution ? (JSON.parse(r.contribution as string) as { c: LabelContribution; to: EventFacts }) : undefined
  const s: LabelState = {
    project: r.project as string,
    eventId: r.event_id as string,
    name: r.name as string,
    kind: r.kind as LabelState['kind'],
    order: r.kind === 'label' && Number(r.fb_order) >= 0 ? [Number(r.fb_ts_ms), Number(r.fb_order)] : null,
    value: stored.value ?? null,
    times: stored.times ?? [],
    converted: stored.converted ?? false,
    pending: Number(r.pending) === 1,
  }
  if (r.event) s.facts = JSON.parse(r.event as string) as EventFacts
  if (c) {
    s.contribution = c.c
    s.contributedTo = c.to
  }
  return s
}

/** The label states of one feed step. */
export interface LabelStates {
  get(project: string, eventId: string, name: string): LabelState | undefined
  create(project: string, eventId: string, name: string, kind: LabelState['kind']): LabelState
  /** States still waiting for one of these events. */
  pendingFor(events: readonly LoggedEvent[]): LabelState[]
}

/**
 * Loads the states of the (event, name) pairs feedback of this step names, and the waiting states
 * of this step's events (only looked for when anything waits at all).
 */
export async function loadLabelStates(
  derived: DerivedStore,
  wanted: readonly { project: string; eventId: string; name: string }[],
  events: readonly { project: string; eventId: string }[],
): Promise<LabelStates> {
  const db = derived.db
  const map = new Map<string, LabelState>()
  const byProject = new Map<string, Set<string>>()
  for (const w of wanted) {
    let s = byProject.get(w.project)
    if (!s) byProject.set(w.project, (s = new Set()))
    s.add(w.eventId)
  }
  for (const [project, ids] of byProject) {
    for (const part of chunks([...ids])) {
      const rows = (await db
        .selectFrom('metric_labels')
        .selectAll()
        .where('project', '=', project)
        .where('event_id', 'in', part)
        .execute()) as Record<string, unknown>[]
      for (const r of rows) map.set(key(r.project as string, r.event_id as string, r.name as string), fromRow(r))
    }
  }
  const anyPending =
    events.length > 0 && (await db.selectFrom('metric_labels').select('name').where('pending', '=', 1).limit(1).executeTakeFirst())
  if (anyPending) {
    const evByProject = new Map<string, string[]>()
    for (const e of events) {
      let l = evByProject.get(e.project)
      if (!l) evByProject.set(e.project, (l = []))
      l.push(e.eventId)
    }
    for (const [project, ids] of evByProject) {
      for (const part of chunks(ids)) {
        const rows = (await db
          .selectFrom('metric_labels')
          .selectAll()
          .where('pending', '=', 1)
          .where('project', '=', project)
          .where('event_id', 'in', part)
          .execute()) as Record<string, unknown>[]
        for (const r of rows) {
          const k = key(r.project as string, r.event_id as string, r.name as string)
          if (!map.has(k)) map.set(k, fromRow(r))
        }
      }
    }
  }
  return {
    get: (p, e, n) => map.get(key(p, e, n)),
    create(project, eventId, name, kind) {
      const s: LabelState = { project, eventId, name, kind, order: null, value: null, times: [], converted: false, pending: true }
      map.set(key(project, eventId, name), s)
      return s
    },
    pendingFor(evs) {
      const ids = new Set(evs.map((e) => `${e.project}\u0000${e.id}`))
      return [...map.values()].filter((s) => s.pending && ids.has(`${s.project}\u0000${s.eventId}`))
    },
  }
}

const LABEL_FIELDS = ['project', 'event_id', 'name', 'fb_ts_ms', 'fb_order', 'kind', 'value', 'pending', 'event', 'contribution'] as const

/** The upsert of label states, compiled once for a store's dialect (see {@link labelStateWrites}). */
export type LabelStateTemplate = RowsTemplate<(typeof LABEL_FIELDS)[number]>

/** Compiles the label-state upsert for `db`'s dialect; bind it with {@link labelStateWrites}. */
export function labelStateTemplate(db: DerivedStore['db']): LabelStateTemplate {
  return new RowsTemplate(LABEL_FIELDS, (rows) =>
    db
      .insertInto('metric_labels')
      .values(rows)
      .onConflict((oc) =>
        oc.columns(['project', 'event_id', 'name']).doUpdateSet((eb) => ({
          fb_ts_ms: eb.ref('excluded.fb_ts_ms'),
          fb_order: eb.ref('excluded.fb_order'),
          kind: eb.ref('excluded.kind'),
          value: eb.ref('excluded.value'),
          pending: eb.ref('excluded.pending'),
          event: eb.ref('excluded.event'),
          contribution: eb.ref('excluded.contribution'),
        })),
      ),
  )
}

/**
 * The writes that store label states (insert or replace), bound from a compiled template: a few
 * multi-row statements. One state per (event, name) key, as {@link LabelStates} keeps them.
 */
export function labelStateWrites(template: LabelStateTemplate, states: Iterable<LabelState>): CompiledWrite[] {
  const rows: Record<(typeof LABEL_FIELDS)[number], unknown>[] = []
  for (const s of states)
    rows.push({
      project: s.project,
      event_id: s.eventId,
      name: s.name,
      fb_ts_ms: s.order?.[0] ?? 0,
      fb_order: s.order?.[1] ?? -1,
      kind: s.kind,
      value: JSON.stringify(s.kind === 'label' ? { value: s.value } : { times: s.times, converted: s.converted }),
      pending: s.pending ? 1 : 0,
      event: s.facts ? JSON.stringify(s.facts) : null,
      contribution: s.contribution && s.contributedTo ? JSON.stringify({ c: s.contribution, to: s.contributedTo }) : null,
    })
  return template.bind(rows)
}
