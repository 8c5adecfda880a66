import { createRequire } from 'node:module'
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'
import type { ErrorCode } from './error-codes.js'
import { findDuplicateKeys, inspectJson, keysCertainlyUnique } from './json-inspect.js'
import { checkTensor, looksLikeTensor } from './tensor.js'

// ajv-formats ships CommonJS with a default export object; under NodeNext the callable sits on .default.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv,
  formats: string[],
) => Ajv

const require = createRequire(import.meta.url)

/** The JSON Schema of `inferlog.event/v1`, as shipped in `schemas/event.v1.schema.json`. */
export const eventJsonSchema: Record<string, unknown> = require('../schemas/event.v1.schema.json')
/** The JSON Schema of feedback items, as shipped in `schemas/feedback.v1.schema.json`. */
export const feedbackJsonSchema: Record<string, unknown> = require('../schemas/feedback.v1.schema.json')

/** Why one item was refused. */
export interface ValidationIssue {
  code: ErrorCode
  /** JSON Pointer to the offending field ('' for the item itself). */
  path: string
  message: string
}

/** Options of {@link createValidator}. */
export interface ValidatorOptions {
  /** Maximum nesting of objects and arrays in one item, the item itself being level 1. Default 64. */
  maxDepth?: number
}

/**
 * Compiled item validators. Each returns `undefined` for a valid item, else the first issue.
 * `text`, when given, is the item's own JSON text: keys repeated within one object (which
 * `JSON.parse` silently merges) are then refused as `duplicate_key`. Without it the caller has
 * checked the text itself (a whole request body, see {@link findDuplicateKeys}).
 */
export interface Validator {
  event(item: unknown, text?: string): ValidationIssue | undefined
  feedback(item: unknown, text?: string): ValidationIssue | undefined
}

/**
 * Nesting depth of a JSON value, computed without recursion so hostile input cannot overflow the
 * stack. Stops early once `limit` is exceeded.
 */
export function jsonDepth(value: unknown, limit = Number.POSITIVE_INFINITY): number {
  return inspectJson(value, limit).depth
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1')
}

function issueFromAjv(e: ErrorObject): ValidationIssue {
  let path = e.instancePath
  let message = e.message ?? 'is invalid'
  const p = e.params as Record<string, unknown>
  if (e.keyword === 'required' && typeof p.missingProperty === 'string') {
    path += `/${escapePointer(p.missingProperty)}`
    message = 'is required'
  } else if (e.keyword === 'additionalProperties' && typeof p.additionalProperty === 'string') {
    path += `/${escapePointer(p.additionalProperty)}`
    message = 'is not a known field'
  } else if (e.keyword === 'enum' && Array.isArray(p.allowedValues)) {
    message = `must be one of ${p.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`
  }
  return { code: 'validation_failed', path, message: `${path || '(item)'} ${message}` }
}

function notAnObject(item: unknown): ValidationIssue | undefined {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    return { code: 'validation_failed', path: '', message: 'an item must be a JSON object' }
  }
  return undefined
}

/**
 * Compiles the event and feedback schemas once. Validation is per item: the depth limit first
 * (so deep input never reaches recursive code), then tensors (code `invalid_tensor`), then the
 * JSON Schema (code `validation_failed`, with the field path).
 */
export function createValidator(options: ValidatorOptions = {}): Validator {
  const maxDepth = options.maxDepth ?? 64
  const ajv = new Ajv({ allErrors: false, strict: false, validateFormats: true })
  addFormats(ajv, ['date-time'])
  const eventFn: ValidateFunction = ajv.compile(eventJsonSchema)
  const feedbackFn: ValidateFunction = ajv.compile(feedbackJsonSchema)

  /**
   * One walk for the rules every encoding shares: the depth limit (before any recursive code sees
   * the item), numbers JSON cannot represent (`1e999` parses to Infinity, which a re-serialization
   * would turn into null), and keys repeated within one object.
   */
  function shape(item: unknown, text: string | undefined): ValidationIssue | undefined {
    const s = inspectJson(item, maxDepth)
    if (s.depth > maxDepth) return { code: 'depth_exceeded', path: '', message: `item nests deeper than ${maxDepth} levels` }
    if (s.nonFinite !== undefined) {
      return { code: 'number_out_of_range', path: s.nonFinite, message: `${s.nonFinite} is a number outside the range of a 64-bit float` }
    }
    if (text !== undefined && !keysCertainlyUnique(text, s.keys)) {
      const dup = findDuplicateKeys(text)[0]
      if (dup) return { code: 'duplicate_key', path: dup.path, message: `${dup.path} appears more than once in the same object` }
    }
    return undefined
  }

  return {
    event(item, text) {
      const bad = notAnObject(item) ?? shape(item, text)
      if (bad) return bad
      const internals = (item as Record<string, unknown>).internals
      if (typeof internals === 'object' && internals !== null && !Array.isArray(internals)) {
        for (const [name, value] of Object.entries(internals)) {
          if (!looksLikeTensor(value)) continue
          const t = checkTensor(value)
          if (t) {
            const path = `/internals/${escapePointer(name)}${t.path}`
            return { code: 'invalid_tensor', path, message: `${path}: ${t.message}` }
          }
        }
      }
      if (!eventFn(item)) return issueFromAjv(eventFn.errors![0]!)
      return undefined
    },
    feedback(item, text) {
      const bad = notAnObject(item) ?? shape(item, text)
      if (bad) return bad
      if (!feedbackFn(item)) return issueFromAjv(feedbackFn.errors![0]!)
      return undefined
    },
  }
}
