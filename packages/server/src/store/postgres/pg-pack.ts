/**
 * Column values sent as one delimited text parameter instead of a PostgreSQL array literal.
 *
 * `pg` serializes a JS array by quoting and backslash-escaping every element; for JSON bodies (full
 * of quotes) that measured ~20 µs of CPU and garbage per event, more than the INSERT itself. JSON text
 * can never hold a raw U+001E (control characters must be escaped inside strings and are not white
 * space outside them), so bodies, and in practice every other column, can be joined with it and
 * split by `string_to_array` on the server, with U+001F standing for NULL. A batch holding a value
 * that contains U+001E or is exactly U+001F is sent the escaped way instead.
 */

const SEP = '\x1e'
const NULL_MARK = '\x1f'

/** Whether every value can travel packed. */
export function packable(values: readonly (string | number | null)[]): boolean {
  for (const v of values) {
    if (typeof v === 'string' && (v === NULL_MARK || v.includes(SEP))) return false
  }
  return true
}

/**
 * One text parameter holding all values. A leading separator makes an empty first value survive
 * (`string_to_array('')` is an empty array); {@link unpackSql} drops the empty element it creates.
 */
export function pack(values: readonly (string | number | null)[]): string {
  let s = ''
  for (const v of values) s += SEP + (v === null ? NULL_MARK : v)
  return s
}

/** SQL turning a packed parameter back into an array of `type`. */
export function unpackSql(param: string, type: 'text' | 'int8'): string {
  const arr = `(string_to_array(${param}, chr(30), chr(31)))[2:]`
  return type === 'text' ? arr : `${arr}::int8[]`
}
