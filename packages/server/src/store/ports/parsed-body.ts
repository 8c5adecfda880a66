/**
 * A record's or a logged row's body, parsed, carried beside its JSON text so that readers in the
 * same process need not parse it again. Ingest has the parsed item at hand when it builds a
 * record; the embedded store's commit tap hands it on with the committed row; the commit feed's
 * consumers then read it instead of calling `JSON.parse` each (a read-back row gets it from the
 * first reader that parses it, and the others share it).
 *
 * The key is a symbol because structured clone (the SQLite writer thread's `postMessage`) copies
 * no symbol-keyed property: the parsed form never crosses a thread, only the text does.
 *
 * Invariant, for whoever attaches one: the value is what `JSON.parse(body)` returns (deeply equal;
 * the one difference `JSON.stringify` allows, `-0` written as `0`, no reader tells apart), and
 * nobody mutates it afterwards. Readers treat it as read-only.
 */
export const PARSED_BODY: unique symbol = Symbol('inferlog.parsedBody')

/** Anything with a stored JSON text that may carry its parsed form. */
export interface WithParsedBody {
  readonly body: string
  [PARSED_BODY]?: unknown
}

/**
 * The body of `row` parsed: the form attached to it, else `JSON.parse(row.body)`, kept on the row
 * for the next reader. Throws what `JSON.parse` throws for a body that is not JSON.
 */
export function parsedBody<T = unknown>(row: WithParsedBody): T {
  let v = row[PARSED_BODY]
  if (v === undefined) {
    v = JSON.parse(row.body) as unknown
    row[PARSED_BODY] = v
  }
  return v as T
}
