/**
 * Stable error codes. Clients branch on these strings, never on message text.
 * Request-level codes come back as `{error: {code, message}}`; item-level codes appear in
 * `rejected[].code` of an ingest reply.
 */
export const ERROR_CODES = {
  /** The body (or an NDJSON line) is not JSON. */
  invalid_json: 'invalid_json',
  /** The body (or an NDJSON line) is not valid UTF-8. */
  invalid_utf8: 'invalid_utf8',
  /** An item does not match the schema; `path` names the field. */
  validation_failed: 'validation_failed',
  /** An item nests deeper than the depth limit (default 64 levels). */
  depth_exceeded: 'depth_exceeded',
  /** One item is larger than the per-item limit (default 1 MiB). */
  item_too_large: 'item_too_large',
  /** A number JSON cannot carry as a 64-bit float (e.g. `1e999`); `path` names it. */
  number_out_of_range: 'number_out_of_range',
  /** A key appears twice in one object; `path` names it. */
  duplicate_key: 'duplicate_key',
  /** `ts` is further in the future than the allowed clock skew (default 1 day). */
  ts_out_of_range: 'ts_out_of_range',
  /** A tensor has an unknown dtype, a bad shape, or data that does not match its shape. */
  invalid_tensor: 'invalid_tensor',
  /** The store refused this item's data (e.g. a value PostgreSQL cannot hold); the other items of the request were stored. */
  store_rejected: 'store_rejected',
  /** Same id as a stored record with different content; the stored record is unchanged. */
  conflict: 'conflict',
  /**
   * The record was erased (privacy erasure or retention), or refers to an erased event (a
   * feedback's `event_id`, a shadow's `shadow_of`): reads answer 410, ingest refuses the item.
   */
  erased: 'erased',
  /** The operation matches more records than its confirmation threshold; repeat it with `confirm: true`. */
  confirmation_required: 'confirmation_required',
  /** The request body is over the size limit (default 5 MiB, after decompression). */
  payload_too_large: 'payload_too_large',
  /** The request holds more items than the batch limit (default 10 000). */
  too_many_items: 'too_many_items',
  /** The body cannot be read as a whole (empty, bad gzip, wrong shape). */
  bad_request: 'bad_request',
  /** A query parameter is malformed. */
  invalid_parameter: 'invalid_parameter',
  /** Content-Type or Content-Encoding not supported. */
  unsupported_media_type: 'unsupported_media_type',
  /** No or unknown API key. */
  unauthorized: 'unauthorized',
  /** The key lacks the scope, or names another project. */
  forbidden: 'forbidden',
  /** The write queue is full; retry after `Retry-After` seconds. */
  overloaded: 'overloaded',
  /** No such record or route. */
  not_found: 'not_found',
  /** The client closed the connection before its request was read (logged as status 499). */
  client_closed: 'client_closed',
  /** The server is shutting down. */
  unavailable: 'unavailable',
  /** A bug or an unexpected fault; details are in the server log. */
  internal: 'internal',
} as const

/** One of {@link ERROR_CODES}. */
export type ErrorCode = keyof typeof ERROR_CODES

/** A per-item rejection in an ingest reply. */
export interface ItemRejection {
  /** Index of the item in the request (NDJSON line index counting non-empty lines). */
  index: number
  /** The item's id, when it had or was given one. */
  id?: string
  code: ErrorCode
  /** JSON Pointer to the offending field, when one is known. */
  path?: string
  message: string
}

/** Reply of `POST /v1/events` and `POST /v1/feedback`. */
export interface IngestReply {
  /** Items stored by this request. */
  accepted: number
  /** Items already stored with the same canonical content (a safe re-send). */
  duplicates: number
  /** Each input item's id in input order; `null` for a rejected item. */
  ids: (string | null)[]
  rejected: ItemRejection[]
}
