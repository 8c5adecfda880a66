/** Stable codes of {@link DatasetError}; callers branch on these, never on message text. */
export type DatasetErrorCode =
  /** The spec is not valid; `issues` lists every problem with its path. */
  | 'invalid_spec'
  /** A stored body could not be read as a JSON object (a corrupt row; the build stops). */
  | 'invalid_record'
  /** The output directory (or dataset version) already exists. */
  | 'already_exists'
  /** No such dataset, version or file. */
  | 'not_found'
  /** A `sinceLast` build without a parent version, or a parent of another spec. */
  | 'no_parent'
  /** A Label Studio export or a scorer module is not usable as a whole. */
  | 'invalid_input'
  /** The build was aborted through its signal. */
  | 'aborted'
  /** A build asked to publish only new rows (`skipEmpty`) found none: no version was made. */
  | 'nothing_new'
  /** The version's data files were purged because they held erased events. */
  | 'erased'

/** One problem found in a spec: a JSON Pointer into the spec and the reason. */
export interface SpecIssue {
  /** JSON Pointer to the offending key ('' for the spec itself), e.g. `/feedback/label/window`. */
  path: string
  /** Why it is refused, e.g. `must be one of "latest", "earliest", ...`. */
  message: string
}

/** HTTP status a server should answer for each code. */
const STATUS: Record<DatasetErrorCode, number> = {
  invalid_spec: 400,
  invalid_record: 500,
  already_exists: 409,
  not_found: 404,
  no_parent: 409,
  invalid_input: 400,
  aborted: 499,
  nothing_new: 409,
  erased: 410,
}

/** The one error type of the datasets package. `issues` is set for `invalid_spec`. */
export class DatasetError extends Error {
  readonly code: DatasetErrorCode
  readonly status: number
  readonly issues: SpecIssue[]

  constructor(code: DatasetErrorCode, message: string, options: { issues?: SpecIssue[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'DatasetError'
    this.code = code
    this.status = STATUS[code]
    this.issues = options.issues ?? []
  }
}

/** True for a {@link DatasetError} (also across package copies). */
export function isDatasetError(e: unknown): e is DatasetError {
  return e instanceof DatasetError || (e instanceof Error && e.name === 'DatasetError' && 'code' in e)
}
