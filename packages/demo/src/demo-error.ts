/** Stable codes of {@link DemoError}. */
export type DemoErrorCode = 'invalid_argument' | 'dataset_invalid' | 'collector_failed' | 'api_failed'

/** The demo's one error type: a stable `code` callers branch on, and a one-line message. */
export class DemoError extends Error {
  override readonly name = 'DemoError'
  constructor(
    readonly code: DemoErrorCode,
    message: string,
  ) {
    super(message)
  }
}
