/** Redaction is shared with the collector (which applies it again at ingest): it lives in `@inferlog/schema`. */
export { createRedactor, luhnValid, type Redactor, redactString } from '@inferlog/schema'
