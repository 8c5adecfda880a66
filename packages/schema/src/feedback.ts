import type { JsonObject } from './event.js'

/** Identifier of the feedback schema. */
export const FEEDBACK_SCHEMA = 'inferlog.feedback/v1' as const

/** Whether a person meant to give the signal (`explicit`) or it was observed (`implicit`). */
export type FeedbackKind = 'explicit' | 'implicit'

/** Who gave a feedback signal. */
export interface FeedbackSource {
  type: 'user' | 'annotator' | 'model' | 'system'
  id?: string
}

/** `preference` feedback: indexes into the event's `candidates`. */
export interface PreferenceValue {
  chosen: number
  rejected: number | number[]
  [key: string]: unknown
}

/** A later signal attached to an event by `event_id`, in any order. */
export interface FeedbackItem {
  /** Idempotency key; assigned by the collector if absent. */
  id?: string
  schema?: typeof FEEDBACK_SCHEMA
  /** The event's `id`. The event may arrive before or after this item. Required. */
  event_id: string
  /** e.g. `thumbs`, `label`, `purchase`, `rating`, `correction`, `preference`. Required. */
  name: string
  /** Required. `preference` uses `{chosen, rejected}`; `correction` carries the corrected output. */
  value: number | string | boolean | JsonObject
  /** Default `explicit`. */
  kind?: FeedbackKind
  source?: FeedbackSource
  /** RFC 3339 time the signal happened; defaults to the receipt time. */
  ts?: string
  comment?: string
  metadata?: JsonObject
}
