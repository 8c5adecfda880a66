/**
 * Stable codes of a field that drift cannot be computed for (the other fields still are):
 * - `no_values`: a window has no value of the field
 * - `too_few_values`: a window has too few values for the method (e.g. MMD needs 2 per window)
 * - `mixed_types`: values of incompatible types in one field, or a different kind in each window
 * - `unsupported_type`: values that no method accepts (objects, arrays of non-numbers)
 * - `method_not_applicable`: the method does not fit the field's kind (chi-squared on an embedding)
 * - `unknown_method`: not one of the contract's method names
 */
export type DriftErrorCode =
  | 'no_values'
  | 'too_few_values'
  | 'mixed_types'
  | 'unsupported_type'
  | 'method_not_applicable'
  | 'unknown_method'

/** A per-field failure with a stable {@link DriftErrorCode}. */
export class DriftFieldError extends Error {
  override readonly name = 'DriftFieldError'
  constructor(
    readonly code: DriftErrorCode,
    message: string,
  ) {
    super(message)
  }
}
