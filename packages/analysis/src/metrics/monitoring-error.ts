/** Stable codes of {@link MonitoringError}; callers branch on these, never on message text. */
export type MonitoringErrorCode =
  /** A price table does not match its schema; `issues` lists every problem with its path. */
  | 'invalid_price_table'
  /** An alert rule (or a rule list) does not match its schema; `issues` lists every problem. */
  | 'invalid_alert_rule'
  /** A label contribution is malformed (type, weight, values). */
  | 'invalid_label'
  /** A retraction does not match anything that was added to the aggregate. */
  | 'invalid_retraction'
  /** A serialized aggregate cannot be read. */
  | 'invalid_aggregate'
  /** An event observation is malformed (weight, latency). */
  | 'invalid_observation'

/** One problem found while validating a document: a JSON Pointer and what is wrong there. */
export interface MonitoringIssue {
  /** JSON Pointer to the offending value ('' for the document itself). */
  path: string
  message: string
}

/**
 * The one error type of the monitoring computations. `code` is stable; `issues` carries every
 * validation problem (with its path) when a whole document is rejected. A server maps it to a 400.
 */
export class MonitoringError extends Error {
  readonly code: MonitoringErrorCode
  readonly issues: MonitoringIssue[]

  constructor(code: MonitoringErrorCode, message: string, issues: MonitoringIssue[] = []) {
    super(message)
    this.name = 'MonitoringError'
    this.code = code
    this.issues = issues
  }
}
